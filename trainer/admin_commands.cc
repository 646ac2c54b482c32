#include "trainer/admin_commands.h"

#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "storage/model_store.h"
#include "trainer/catalog_command.h"
#include "trainer/model_preview.h"
#include "trainer/train_flags.h"
#include "trainer/transfer_commands.h"

ABSL_FLAG(int64_t, version, 0, "Model version for rollback, delete and export.");
ABSL_FLAG(std::string, users, "", "Comma-separated user ids for `recommend`.");

namespace affinity {
namespace {

using storage::ModelStore;

absl::StatusOr<std::unique_ptr<ModelStore>> OpenStore(ModelStore::Mode mode) {
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");
  return ModelStore::Open(db, mode);
}

absl::StatusOr<uint64_t> VersionFlag() {
  const int64_t version = absl::GetFlag(FLAGS_version);
  if (version <= 0) return absl::InvalidArgumentError("--version: expected a version number >= 1");
  return static_cast<uint64_t>(version);
}

std::string FormatTime(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

absl::Status ListVersions(std::ostream& out) {
  auto store = OpenStore(ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  auto versions = (*store)->ListVersions();
  if (!versions.ok()) return versions.status();
  if (versions->empty()) {
    out << "no published versions\n";
    return absl::OkStatus();
  }
  auto live = (*store)->LiveVersion();
  out << absl::StrFormat("%-4s %-8s %-24s %-22s %9s %9s %5s %s\n", "", "version",
                         "created", "algorithm", "users", "items", "dims", "metrics");
  for (const storage::VersionInfo& v : *versions) {
    const auto& m = v.metadata;
    std::string metrics;
    for (const char* name : {"precision_at_10", "ndcg_at_10"}) {
      auto it = m.metrics().find(name);
      if (it != m.metrics().end()) absl::StrAppendFormat(&metrics, "%s=%.4f ", name, it->second);
    }
    out << absl::StrFormat("%-4s %-8d %-24s %-22s %9d %9d %5d %s\n",
                           live.ok() && *live == v.version ? "live" : "", v.version,
                           FormatTime(m.created_at_unix()), m.algorithm(), m.users(),
                           m.items(), m.dims(), metrics);
  }
  return absl::OkStatus();
}

absl::Status Rollback(std::ostream& out) {
  auto version = VersionFlag();
  if (!version.ok()) return version.status();
  auto store = OpenStore(ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  if (absl::Status s = (*store)->SetLiveVersion(*version); !s.ok()) return s;
  out << "live version pinned to " << *version << "\n";
  return absl::OkStatus();
}

absl::Status Unpin(std::ostream& out) {
  auto store = OpenStore(ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  if (absl::Status s = (*store)->SetLiveVersion(std::nullopt); !s.ok()) return s;
  auto live = (*store)->LiveVersion();
  out << "live version follows the newest published"
      << (live.ok() ? absl::StrCat(" (now ", *live, ")") : std::string()) << "\n";
  return absl::OkStatus();
}

absl::Status Delete(std::ostream& out) {
  auto version = VersionFlag();
  if (!version.ok()) return version.status();
  auto store = OpenStore(ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  if (absl::Status s = (*store)->DeleteVersion(*version); !s.ok()) return s;
  out << "deleted version " << *version << "\n";
  return absl::OkStatus();
}

absl::Status Recommend(std::ostream& out) {
  std::vector<std::string> users =
      absl::StrSplit(absl::GetFlag(FLAGS_users), ',', absl::SkipEmpty());
  if (users.empty()) return absl::InvalidArgumentError("--users: expected user ids, e.g. --users=1,2");
  const int k = absl::GetFlag(FLAGS_k);
  if (k < 1) return absl::InvalidArgumentError("--k: expected a count >= 1");
  auto store = OpenStore(ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  auto live = (*store)->LiveVersion();
  if (!live.ok()) return live.status();
  auto model = (*store)->OpenVersion(*live);
  if (!model.ok()) return model.status();
  out << "model version " << *live << "\n";
  return PrintTopK(**model, absl::GetFlag(FLAGS_db), users, k, out);
}

}  // namespace

absl::Status RunAdminCommand(absl::string_view command, std::ostream& out) {
  if (command == "catalog") return LoadCatalogCommand(out);
  if (command == "versions") return ListVersions(out);
  if (command == "rollback") return Rollback(out);
  if (command == "unpin") return Unpin(out);
  if (command == "delete") return Delete(out);
  if (command == "recommend") return Recommend(out);
  if (command == "export") return ExportVersionCommand(absl::GetFlag(FLAGS_version), out);
  if (command == "import-version") return ImportVersionCommand(out);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown command '", command,
      "'; expected catalog, versions, rollback, unpin, delete, recommend, import, export "
      "or import-version (see --help)"));
}

}  // namespace affinity
