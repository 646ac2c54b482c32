// Converts rocksdb::Status to absl::Status, prefixing what was being done.
#ifndef AFFINITY_STORAGE_ROCKS_STATUS_H_
#define AFFINITY_STORAGE_ROCKS_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace affinity::storage {

// OK stays OK; otherwise the code maps to the closest absl code and the
// message reads "<context>: <rocksdb message>".
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view context);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_ROCKS_STATUS_H_
