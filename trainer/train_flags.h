// Turns affinity-train's command-line flags into a TrainingJobConfig,
// rejecting bad values with a message naming the flag.
#ifndef AFFINITY_TRAINER_TRAIN_FLAGS_H_
#define AFFINITY_TRAINER_TRAIN_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "trainer/training_job.h"

// Flags the admin commands share with training.
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(int, k);

namespace affinity {

// Reads the FLAGS_* of train_flags.cc. InvalidArgument names the flag.
absl::StatusOr<TrainingJobConfig> TrainingJobConfigFromFlags();

// The interactions reader's flags alone (--format, --header, --weight,
// --on_error, --max_id_length), for every command that reads interactions.
absl::StatusOr<InteractionReaderOptions> ReaderOptionsFromFlags();

}  // namespace affinity

#endif  // AFFINITY_TRAINER_TRAIN_FLAGS_H_
