// Test inputs written under the test's private temporary directory.
#ifndef AFFINITY_TESTS_DATA_TEMP_FILES_H_
#define AFFINITY_TESTS_DATA_TEMP_FILES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace affinity::testing {

// Writes `contents` to TEST_TMPDIR/name (overwriting) and returns the path.
std::string WriteTempFile(absl::string_view name, absl::string_view contents);

// A path under TEST_TMPDIR that does not exist.
std::string MissingTempPath(absl::string_view name);

}  // namespace affinity::testing

#endif  // AFFINITY_TESTS_DATA_TEMP_FILES_H_
