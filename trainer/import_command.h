// `affinity-train import`: reads Spark MLlib ALS factor tables
// (--user_factors, --item_factors) and optionally the interactions they were
// trained on (--interactions, with the training --format/--header/--weight/
// --on_error/--max_id_length flags), and publishes them as a new version of
// the store at --db with --alpha and --regularization recorded for the
// server's fold-in. Nothing is published on any error.
#ifndef AFFINITY_TRAINER_IMPORT_COMMAND_H_
#define AFFINITY_TRAINER_IMPORT_COMMAND_H_

#include <ostream>

#include "absl/status/status.h"

namespace affinity {

// InvalidArgument names a missing or bad flag; otherwise the errors of
// AssembleSparkModel and PublishImportedModel (trainer/import/import_job.h).
absl::Status ImportSparkCommand(std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_IMPORT_COMMAND_H_
