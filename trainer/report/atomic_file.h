// Writes a whole file so that readers see either the old or the new
// contents, never a partial one (write to PATH.tmp, then rename).
#ifndef AFFINITY_TRAINER_REPORT_ATOMIC_FILE_H_
#define AFFINITY_TRAINER_REPORT_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace affinity {

// Errors name the path.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_ATOMIC_FILE_H_
