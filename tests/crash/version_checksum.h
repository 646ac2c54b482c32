// SHA-256 checksums of a published model version, read through the model
// store's public API (storage/model_store.h), for tests that compare what a
// store holds before and after a crash.
//
// ContentChecksum covers what serving reads: item ids and vectors, the
// popular items, and every user's id, index, vector and seen items.
// FullChecksum adds the metadata as stored and every stored index (header
// and blob, the blob's own SHA-256 checked), so two versions written by
// separate runs of the same training differ in it (creation time, version
// number) while their content checksums agree.
// Errors are those of the reader (e.g. DataLoss). Thread-compatible.
#ifndef AFFINITY_TESTS_CRASH_VERSION_CHECKSUM_H_
#define AFFINITY_TESTS_CRASH_VERSION_CHECKSUM_H_

#include <string>

#include "absl/status/statusor.h"
#include "storage/model_store.h"

namespace affinity::testing {

// Lowercase hex SHA-256.
absl::StatusOr<std::string> ContentChecksum(const storage::ModelVersionReader& version);
absl::StatusOr<std::string> FullChecksum(const storage::ModelVersionReader& version);

}  // namespace affinity::testing

#endif  // AFFINITY_TESTS_CRASH_VERSION_CHECKSUM_H_
