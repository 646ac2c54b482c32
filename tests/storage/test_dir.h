// Fresh scratch directories for storage tests, under $TEST_TMPDIR (or /tmp),
// and raw access to a store that bypasses the store's API and its checks:
// its keys, and a version's stored metadata rewritten as damage would.
#ifndef AFFINITY_TESTS_STORAGE_TEST_DIR_H_
#define AFFINITY_TESTS_STORAGE_TEST_DIR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "affinity/v1/model.pb.h"

namespace affinity::storage::testing {

// Creates a new empty directory and returns its path.
std::string MakeTestDir();

// Keys in [begin, end) of the RocksDB at `db_path`, opened read-only (the
// database must not be open read-write in this process).
std::vector<std::string> RawKeys(const std::string& db_path,
                                 const std::string& begin,
                                 const std::string& end);

// Applies `edit` to the stored metadata of published `version` in the model
// store DIR/models and writes it back, unchecked (the store must not be open
// read-write in this process; followers see it after Refresh). Failures are
// test failures.
void EditStoredMetadata(const std::string& dir, uint64_t version,
                        const std::function<void(affinity::v1::ModelMetadata&)>& edit);

}  // namespace affinity::storage::testing

#endif  // AFFINITY_TESTS_STORAGE_TEST_DIR_H_
