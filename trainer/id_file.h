// Reads a file of ids, one per line, as `affinity-train ids` writes them:
// each line is one id taken verbatim (blanks and commas are part of it; a
// trailing "\r" is dropped), and blank lines are skipped.
//
// Errors: NotFound "FILE: cannot open" for an unreadable file; InvalidArgument
// "FILE: no ids, expected one id per line" for a file without any. Pure,
// thread-safe.
#ifndef AFFINITY_TRAINER_ID_FILE_H_
#define AFFINITY_TRAINER_ID_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace affinity {

absl::StatusOr<std::vector<std::string>> ReadIdFile(const std::string& path);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ID_FILE_H_
