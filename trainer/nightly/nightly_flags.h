// Turns `affinity-train nightly`'s flags (the training flags plus the
// gate, refit and retention flags) into a NightlyConfig, rejecting bad
// values with a message naming the flag.
#ifndef AFFINITY_TRAINER_NIGHTLY_NIGHTLY_FLAGS_H_
#define AFFINITY_TRAINER_NIGHTLY_NIGHTLY_FLAGS_H_

#include "absl/status/statusor.h"
#include "trainer/nightly/nightly_job.h"

namespace affinity {

absl::StatusOr<NightlyConfig> NightlyConfigFromFlags();

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_NIGHTLY_FLAGS_H_
