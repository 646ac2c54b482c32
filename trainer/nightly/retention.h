// Version retention: keep the newest `keep_newest` versions plus every
// version the rollout refers to (live, pinned, an arm, the shadow, the
// control a rollback returns to); delete the rest, oldest first. The store
// refuses to delete a referenced version by itself as well.
#ifndef AFFINITY_TRAINER_NIGHTLY_RETENTION_H_
#define AFFINITY_TRAINER_NIGHTLY_RETENTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model_store.h"

namespace affinity {

struct RetentionResult {
  std::vector<uint64_t> kept;
  std::vector<uint64_t> deleted;
};

// `store` must be open read-write. keep_newest >= 1. Stops at the first
// failed deletion (what was deleted before it stays deleted).
absl::StatusOr<RetentionResult> ApplyRetention(storage::ModelStore& store, int keep_newest);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_RETENTION_H_
