// What the plain training run and the nightly job write besides the model:
// the ingest line, the metrics JSON (--metrics_json) and the HTML report
// (--report), with their paths checked before any work starts.
#ifndef AFFINITY_TRAINER_TRAINING_OUTPUTS_H_
#define AFFINITY_TRAINER_TRAINING_OUTPUTS_H_

#include <ostream>

#include "absl/status/status.h"
#include "affinity/v1/model.pb.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/training_job.h"

namespace affinity {

// InvalidArgument naming the flag when --report or --metrics_json could not
// be written later (their directory is missing or not writable).
absl::Status CheckOutputPaths(const TrainingJobConfig& config);

// Records the run's start (now, UTC, ISO 8601) in report->started_at.
void StampRunStart(affinity::v1::TrainingReport* report);

// Logs what was read (and skipped rows, per reason) and what the data looks
// like (trainer/data_preview.h), and records both in `report`.
void LogIngest(const TrainingJobConfig& config, const Interactions& data, std::ostream& log,
               affinity::v1::TrainingReport* report);

// What every trained version's metadata records about the run: algorithm,
// factors, regularization, alpha, weight transform, the input (path, bytes,
// CRC-32), the parameters and the creation time. nnz is the caller's.
void FillRunMetadata(const TrainingJobConfig& config, const InteractionStats& stats,
                     const affinity::v1::TrainingReport& report,
                     affinity::v1::ModelMetadata* metadata);

// Writes the metrics JSON and the HTML report when their paths are set.
absl::Status WriteOutputs(const TrainingJobConfig& config,
                          const affinity::v1::TrainingReport& report);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_TRAINING_OUTPUTS_H_
