// Fresh scratch directories for storage tests, under $TEST_TMPDIR (or /tmp),
// and a raw look at a store's keys that bypasses the store's API.
#ifndef AFFINITY_TESTS_STORAGE_TEST_DIR_H_
#define AFFINITY_TESTS_STORAGE_TEST_DIR_H_

#include <string>
#include <vector>

namespace affinity::storage::testing {

// Creates a new empty directory and returns its path.
std::string MakeTestDir();

// Keys in [begin, end) of the RocksDB at `db_path`, opened read-only (the
// database must not be open read-write in this process).
std::vector<std::string> RawKeys(const std::string& db_path,
                                 const std::string& begin,
                                 const std::string& end);

}  // namespace affinity::storage::testing

#endif  // AFFINITY_TESTS_STORAGE_TEST_DIR_H_
