#include "trainer/ids_command.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/model_store.h"
#include "trainer/train_flags.h"

ABSL_DECLARE_FLAG(std::string, users);
ABSL_DECLARE_FLAG(int64_t, version);

ABSL_FLAG(bool, items, false, "`ids`: write the version's item ids (--users: its user ids).");
ABSL_FLAG(int64_t, limit, 0, "`ids`: write at most this many ids; 0 = all of them.");

namespace affinity {
namespace {

using storage::ModelStore;

// The value --users takes when given alone (affinity_train_main.cc).
constexpr char kAllUsers[] = "all";

bool HasLineBreak(absl::string_view id) {
  return absl::StrContains(id, '\n') || absl::StrContains(id, '\r');
}

}  // namespace

absl::Status ExportIdsCommand(std::ostream& out, std::ostream& log) {
  const std::string users = absl::GetFlag(FLAGS_users);
  const bool items = absl::GetFlag(FLAGS_items);
  if (!users.empty() && users != kAllUsers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--users=", users, ": ids takes --users alone (every user id of the version)"));
  }
  if (users.empty() == !items) {
    return absl::InvalidArgumentError("ids: expected one of --users and --items");
  }
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  if (limit < 0) return absl::InvalidArgumentError("--limit: expected a count >= 0 (0: all)");
  const int64_t version_flag = absl::GetFlag(FLAGS_version);
  if (version_flag < 0) {
    return absl::InvalidArgumentError("--version: expected a version number (0: the live one)");
  }
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");

  storage::ModelStoreOptions options;
  options.create_if_missing = false;
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower, options);
  if (!store.ok()) return store.status();
  uint64_t version = static_cast<uint64_t>(version_flag);
  if (version == 0) {
    auto live = (*store)->LiveVersion();
    if (!live.ok()) return live.status();
    version = *live;
  }
  auto model = (*store)->OpenVersion(version);
  if (!model.ok()) return model.status();

  int64_t written = 0;
  int64_t skipped = 0;
  // Writes one id; false once --limit ids are written.
  auto write = [&](absl::string_view id) {
    if (HasLineBreak(id)) {
      ++skipped;
      return true;
    }
    out << id << '\n';
    ++written;
    return limit == 0 || written < limit;
  };
  if (items) {
    for (const std::string& id : (*model)->item_ids()) {
      if (!write(id)) break;
    }
  } else {
    const absl::Status kEnough = absl::CancelledError("limit reached");
    absl::Status status = (*model)->ForEachUser(
        [&](absl::string_view id, const storage::UserRecord&) {
          return write(id) ? absl::OkStatus() : kEnough;
        });
    if (!status.ok() && status != kEnough) return status;
  }
  out.flush();
  if (!out) return absl::UnavailableError("ids: writing to stdout failed");
  log << "wrote " << written << (items ? " item" : " user") << " ids of version " << version
      << (version_flag == 0 ? " (live)" : "")
      << (skipped > 0 ? absl::StrCat("; skipped ", skipped, " holding a line break") : "")
      << "\n";
  return absl::OkStatus();
}

}  // namespace affinity
