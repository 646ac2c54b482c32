// `affinity-train import`: reads Spark MLlib ALS factor tables
// (--user_factors, --item_factors) and optionally the interactions they were
// trained on (--interactions, with the training --format/--header/--weight/
// --on_error/--max_id_length flags), and publishes them as a new version of
// the store at --db with --alpha and --regularization recorded for the
// server's fold-in. The version goes through the nightly gate against the
// live version (trainer/nightly/import_gate.h; --gate_metric,
// --gate_tolerance, --force): a refused one is stored but not eligible.
// Nothing is published on any error.
#ifndef AFFINITY_TRAINER_IMPORT_COMMAND_H_
#define AFFINITY_TRAINER_IMPORT_COMMAND_H_

#include <ostream>

#include "absl/status/statusor.h"

namespace affinity {

// Whether the stored version is eligible to serve (false: the gate refused
// it). InvalidArgument names a missing or bad flag; otherwise the errors of
// AssembleSparkModel and PublishImportedModel (trainer/import/import_job.h).
absl::StatusOr<bool> ImportSparkCommand(std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_IMPORT_COMMAND_H_
