// A scratch directory for fuzz targets whose parser reads files: created
// once per process, in /dev/shm when it is writable (a disk-backed file
// costs milliseconds per input, tmpfs microseconds), else in $TEST_TMPDIR,
// $TMPDIR or /tmp; removed with its contents at exit. Aborts when it cannot
// be created. Not thread-safe (fuzz targets run inputs one at a time).
#ifndef AFFINITY_TESTS_FUZZ_SCRATCH_DIR_H_
#define AFFINITY_TESTS_FUZZ_SCRATCH_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace affinity::fuzz {

// The directory's path (no trailing '/').
const std::string& ScratchDir();

// Replaces `path` with `bytes`; aborts on failure.
void WriteScratchFile(const std::string& path, absl::string_view bytes);

}  // namespace affinity::fuzz

#endif  // AFFINITY_TESTS_FUZZ_SCRATCH_DIR_H_
