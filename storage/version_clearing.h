// ClearVersionData: removes every data record of one model version (the
// keys in [keys::VersionDataBegin(v), keys::VersionDataEnd(v))) from a
// store's database opened read-write, and returns once the removal is
// durable.
//
// Why it exists: a store's followers (RocksDB secondary instances: the
// running servers) consult their replay of the write-ahead log before files
// flushed later. Version data is written without the log and flushed, so a
// range deletion logged ahead of it would hide data written for the same
// version number afterwards (an import over an interrupted one, a version
// deleted and imported again) from the followers that replayed it. This
// deletion therefore bypasses the log too and is flushed at once.
// Thread-safe as RocksDB is; errors name the version and `what` was done.
#ifndef AFFINITY_STORAGE_VERSION_CLEARING_H_
#define AFFINITY_STORAGE_VERSION_CLEARING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"

namespace affinity::storage {

absl::Status ClearVersionData(rocksdb::DB* db, uint64_t version, absl::string_view what);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_VERSION_CLEARING_H_
