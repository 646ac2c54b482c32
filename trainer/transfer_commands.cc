#include "trainer/transfer_commands.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/version_transfer.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, to, "", "`export`: directory to write the exported version into.");
ABSL_FLAG(std::string, from, "", "`import-version`: directory written by `export`.");
ABSL_FLAG(double, max_write_mb_per_s, 0,
          "`import-version`: pace the import's writes to about this many MB (10^6 bytes) per "
          "second, so that servers on the same machine keep their latency; 0: unpaced.");

namespace affinity {
namespace {

std::string Describe(const storage::VersionTransfer& t) {
  return absl::StrFormat("%s, %d users, %d items, %d dims; %d records, %.1f MB",
                         t.metadata.algorithm(), t.metadata.users(), t.metadata.items(),
                         t.metadata.dims(), t.records, t.bytes / 1e6);
}

}  // namespace

absl::Status ExportVersionCommand(int64_t version, std::ostream& out) {
  const std::string db = absl::GetFlag(FLAGS_db);
  const std::string to = absl::GetFlag(FLAGS_to);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");
  if (version <= 0) {
    return absl::InvalidArgumentError("--version: expected a version number >= 1");
  }
  if (to.empty()) {
    return absl::InvalidArgumentError("--to: expected a new or empty directory for the export");
  }
  absl::StatusOr<storage::VersionTransfer> t =
      storage::ExportVersion(db, static_cast<uint64_t>(version), to);
  if (!t.ok()) return t.status();
  out << absl::StrFormat("exported version %d of %s to %s (%s)\n", t->version, db, to,
                         Describe(*t));
  return absl::OkStatus();
}

absl::Status ImportVersionCommand(std::ostream& out) {
  const std::string db = absl::GetFlag(FLAGS_db);
  const std::string from = absl::GetFlag(FLAGS_from);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");
  if (from.empty()) {
    return absl::InvalidArgumentError("--from: expected a directory written by `export`");
  }
  const double mb_per_s = absl::GetFlag(FLAGS_max_write_mb_per_s);
  if (!(mb_per_s >= 0) || mb_per_s > 1e6) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_write_mb_per_s: expected 0 (unpaced) to 1000000, got ", mb_per_s));
  }
  storage::ImportOptions options;
  options.max_write_bytes_per_s = static_cast<uint64_t>(mb_per_s * 1e6);
  absl::StatusOr<storage::VersionTransfer> t = storage::ImportVersion(from, db, options);
  if (!t.ok()) return t.status();
  if (t->already_present) {
    out << absl::StrFormat("version %d is already in %s, identical: nothing to do\n",
                           t->version, db);
  } else {
    out << absl::StrFormat("imported version %d into %s (%s)\n", t->version, db,
                           Describe(*t));
  }
  return absl::OkStatus();
}

}  // namespace affinity
