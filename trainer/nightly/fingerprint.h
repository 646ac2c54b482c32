// Fingerprints for the nightly job's idempotence: SHA-256 of the input
// file's bytes, and of that hash together with every parameter that changes
// the trained model. Two runs with the same fingerprint would publish the
// same model, so the second one trains nothing. Thread-safe.
#ifndef AFFINITY_TRAINER_NIGHTLY_FINGERPRINT_H_
#define AFFINITY_TRAINER_NIGHTLY_FINGERPRINT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace affinity {

// Lowercase hex SHA-256 of the file's bytes, read in 8 MiB chunks. NotFound
// or the errno's code (naming the file) when it cannot be read.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

// Lowercase hex SHA-256 of "input_sha256=<hash>\n" followed by one
// "name=value\n" line per parameter in name order. `parameters` must hold
// exactly the parameters that change the model (not thread counts, report
// paths or gate settings).
std::string ModelFingerprint(const std::string& input_sha256,
                             const std::map<std::string, std::string>& parameters);

// The first 12 hex digits, for listings.
std::string ShortFingerprint(const std::string& fingerprint);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_FINGERPRINT_H_
