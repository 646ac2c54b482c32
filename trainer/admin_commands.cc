#include "trainer/admin_commands.h"

#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "storage/model_store.h"
#include "trainer/catalog_command.h"
#include "trainer/id_file.h"
#include "trainer/ids_command.h"
#include "trainer/model_preview.h"
#include "trainer/nightly/fingerprint.h"
#include "trainer/nightly/gate.h"
#include "trainer/train_flags.h"
#include "trainer/transfer_commands.h"

ABSL_FLAG(int64_t, version, 0,
          "Model version for rollback, delete and export; for ids (0: the live one).");
ABSL_FLAG(std::string, users, "",
          "`recommend`: comma-separated user ids (ids holding a comma: --users_file); `ids`: "
          "given alone, write the user ids.");
ABSL_FLAG(std::string, users_file, "",
          "`recommend`: file of user ids, one per line, taken verbatim (as `ids --users` "
          "writes them).");

namespace affinity {
namespace {

using storage::ModelStore;

// Every command here reads or changes an existing store: a path without
// one is an error ("no model store at DIR"), never a new empty store.
absl::StatusOr<std::unique_ptr<ModelStore>> OpenStore(ModelStore::Mode mode) {
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");
  storage::ModelStoreOptions options;
  options.create_if_missing = false;
  return ModelStore::Open(db, mode, options);
}

absl::StatusOr<uint64_t> VersionFlag() {
  const int64_t version = absl::GetFlag(FLAGS_version);
  if (version <= 0) return absl::InvalidArgumentError("--version: expected a version number >= 1");
  return static_cast<uint64_t>(version);
}

// "2018-03-01..2018-09-24" for Unix-second timestamps, else the raw range.
std::string DataRange(const affinity::v1::ModelMetadata& m) {
  if (!m.has_timestamps()) return "-";
  auto format = [](int64_t t) {
    if (t < 100000000 || t > 4000000000) return absl::StrCat(t);
    return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t), absl::UTCTimeZone());
  };
  return absl::StrCat(format(m.data_min_timestamp()), "..", format(m.data_max_timestamp()));
}

// What the rollout does with a version: "pinned", an arm's name, "shadow".
std::string RolloutRoles(uint64_t version, const affinity::v1::RolloutState& state,
                         const affinity::v1::ResolvedRollout* resolved) {
  std::vector<std::string> roles;
  if (state.control_version() == version) roles.push_back("pinned");
  if (resolved != nullptr) {
    for (const auto& arm : resolved->arms()) {
      if (arm.version() == version && arm.name() != storage::kControlArmName) {
        roles.push_back(absl::StrCat(arm.name(), " ", arm.basis_points() / 100.0, "%"));
      }
    }
    if (resolved->shadow().version() == version) roles.push_back("shadow");
  }
  return roles.empty() ? "-" : absl::StrJoin(roles, ",");
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
  auto state = (*store)->GetRollout();
  if (!state.ok()) return state.status();
  auto resolved = storage::ResolveRollout(*state, *versions);
  const uint64_t live = resolved.ok() ? resolved->arms(0).version() : 0;
  const char* kRow = "%-4s %-7s %-19s %-21s %-12s %-16s %-8s %-14s %-16s %8s %8s %4s %s\n";
  out << absl::StrFormat(kRow, "", "version", "created (UTC)", "data", "fingerprint", "gate",
                         "eligible", "rollout", "algorithm", "users", "items", "dims",
                         "metrics");
  for (const storage::VersionInfo& v : *versions) {
    const auto& m = v.metadata;
    std::string metrics;
    std::vector<std::string> names = {"precision_at_10", "ndcg_at_10"};
    if (!m.gate().metric().empty()) names = {m.gate().metric()};
    for (const std::string& name : names) {
      auto it = m.metrics().find(name);
      if (it == m.metrics().end()) continue;
      absl::StrAppendFormat(&metrics, "%s=%.4f ", name, it->second);
      auto live_it = m.metrics().find("live." + name);
      if (live_it != m.metrics().end()) {
        absl::StrAppendFormat(&metrics, "(live v%d %.4f) ", m.gate().live_version(),
                              live_it->second);
      }
    }
    out << absl::StrFormat(
        kRow, live == v.version ? "live" : "", absl::StrCat(v.version),
        absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(m.created_at_unix()),
                         absl::UTCTimeZone()),
        DataRange(m), m.fingerprint().empty() ? "-" : ShortFingerprint(m.fingerprint()),
        GateSummary(m.gate()), storage::IsEligible(m) ? "yes" : "no",
        RolloutRoles(v.version, *state, resolved.ok() ? &*resolved : nullptr), m.algorithm(),
        absl::StrCat(m.users()), absl::StrCat(m.items()), absl::StrCat(m.dims()), metrics);
  }
  if (resolved.ok()) {
    for (const std::string& warning : resolved->warnings()) out << "warning: " << warning << "\n";
  } else {
    out << "no version can serve: " << resolved.status().message() << "\n";
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

// --users=a,b or --users_file=F.
absl::StatusOr<std::vector<std::string>> RecommendUsers() {
  const std::string file = absl::GetFlag(FLAGS_users_file);
  if (!file.empty()) {
    if (!absl::GetFlag(FLAGS_users).empty()) {
      return absl::InvalidArgumentError("recommend: expected --users or --users_file, not both");
    }
    return ReadIdFile(file);
  }
  std::vector<std::string> users =
      absl::StrSplit(absl::GetFlag(FLAGS_users), ',', absl::SkipEmpty());
  if (users.empty()) {
    return absl::InvalidArgumentError(
        "--users: expected user ids, e.g. --users=1,2 (or --users_file=FILE, one per line)");
  }
  return users;
}

absl::Status Recommend(std::ostream& out) {
  absl::StatusOr<std::vector<std::string>> users = RecommendUsers();
  if (!users.ok()) return users.status();
  const int k = absl::GetFlag(FLAGS_k);
  if (k < 1) return absl::InvalidArgumentError("--k: expected a count >= 1");
  auto store = OpenStore(ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  auto live = (*store)->LiveVersion();
  if (!live.ok()) return live.status();
  auto model = (*store)->OpenVersion(*live);
  if (!model.ok()) return model.status();
  out << "model version " << *live << "\n";
  return PrintTopK(**model, absl::GetFlag(FLAGS_db), *users, k, out);
}

}  // namespace

absl::Status RunAdminCommand(absl::string_view command, std::ostream& out) {
  if (command == "catalog") return LoadCatalogCommand(out, std::cerr);
  if (command == "versions") return ListVersions(out);
  if (command == "rollback") return Rollback(out);
  if (command == "unpin") return Unpin(out);
  if (command == "delete") return Delete(out);
  if (command == "recommend") return Recommend(out);
  if (command == "ids") return ExportIdsCommand(out, std::cerr);
  if (command == "export") return ExportVersionCommand(absl::GetFlag(FLAGS_version), out);
  if (command == "import-version") return ImportVersionCommand(out);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown command '", command,
      "'; expected catalog, versions, rollback, unpin, delete, recommend, ids, import, "
      "export or import-version (see --help)"));
}

}  // namespace affinity
