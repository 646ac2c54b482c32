#include "storage/version_clearing.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"

namespace affinity::storage {

absl::Status ClearVersionData(rocksdb::DB* db, uint64_t version, absl::string_view what) {
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  const std::string begin = keys::VersionDataBegin(version);
  const std::string end = keys::VersionDataEnd(version);
  if (absl::Status s = FromRocks(db->DeleteRange(no_wal, db->DefaultColumnFamily(), begin, end),
                                 absl::StrCat(what, " (version ", version, ")"));
      !s.ok()) {
    return s;
  }
  return FlushMemtables(db, absl::StrCat("after ", what, " (version ", version, ")"));
}

}  // namespace affinity::storage
