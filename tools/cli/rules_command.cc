#include "tools/cli/rules_command.h"

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rules_catalog_check.h"
#include "storage/catalog_store.h"

namespace affinity::cli {
namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kCannotCheck = 2;

// Every item of DIR/catalog through `check`; NotFound (nothing created)
// when DIR holds no catalog.
absl::Status CheckAgainstCatalog(const std::string& db, server::rules::RulesCatalogCheck& check,
                                 int64_t* items) {
  // A follower of a missing store would create it; a client must not.
  const std::filesystem::path catalog = std::filesystem::path(db) / "catalog";
  std::error_code error;
  if (!std::filesystem::is_directory(catalog, error)) {
    return absl::NotFoundError(absl::StrCat("--db: no catalog at ", catalog.string()));
  }
  absl::StatusOr<std::unique_ptr<storage::CatalogStore>> store =
      storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  *items = 0;
  return (*store)->ForEach([&](const affinity::v1::CatalogItem& item) {
    check.Add(item);
    ++*items;
    return absl::OkStatus();
  });
}

std::string Plural(int64_t n, absl::string_view what) {
  return absl::StrCat(n, " ", what, n == 1 ? "" : "s");
}

}  // namespace

int RunRulesCheck(const std::string& file, const std::string& db, int max_slot,
                  std::ostream& out, std::ostream& err) {
  absl::StatusOr<server::rules::RulesFile> rules = server::rules::ReadRulesFile(file, max_slot);
  if (absl::IsNotFound(rules.status())) {
    err << "error: " << rules.status().message() << "\n";
    return kCannotCheck;
  }
  if (!rules.ok()) {
    err << rules.status().message() << "\n" << file << ": invalid\n";
    return kInvalid;
  }
  const std::vector<std::string> names = rules->rules()->Names();
  std::string verdict =
      absl::StrCat(file, ": valid: ", Plural(static_cast<int64_t>(names.size()), "rule set"),
                   names.empty() ? "" : absl::StrCat(" (", absl::StrJoin(names, ", "), ")"), ", ",
                   Plural(rules->config().blocklist_size(), "blocklisted item"));
  if (!db.empty()) {
    server::rules::RulesCatalogCheck check(rules->config());
    int64_t items = 0;
    if (absl::Status s = CheckAgainstCatalog(db, check, &items); !s.ok()) {
      err << "error: " << s.message() << "\n";
      return kCannotCheck;
    }
    int errors = 0;
    int warnings = 0;
    for (const server::rules::RulesFinding& finding : check.Findings()) {
      err << rules->Where(finding.field) << (finding.error ? "" : "warning: ") << finding.message
          << "\n";
      ++(finding.error ? errors : warnings);
    }
    if (errors > 0) {
      err << file << ": invalid against the catalog under " << db << " ("
          << Plural(errors, "error") << ", " << Plural(warnings, "warning") << ")\n";
      return kInvalid;
    }
    absl::StrAppend(&verdict, "; checked against ", Plural(items, "catalog item"), ", ",
                    Plural(warnings, "warning"));
  }
  out << verdict << "\n";
  return kValid;
}

}  // namespace affinity::cli
