// The nightly training job, end to end: read interactions, split a holdout,
// train ALS, evaluate the model beside the most-popular baseline, publish a
// new model version, write the reports. Nothing is published unless every
// step before publishing succeeded.
#ifndef AFFINITY_TRAINER_TRAINING_JOB_H_
#define AFFINITY_TRAINER_TRAINING_JOB_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/als/options.h"
#include "trainer/data/holdout.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/eval/pure_svd.h"
#include "trainer/publish_options.h"

namespace affinity {

struct TrainingJobConfig {
  std::string input;
  std::string db;  // model store directory; may be empty with publish=false
  bool publish = true;
  // An ANN index built and stored with the published version (--build_index).
  PublishOptions publish_options;
  InteractionReaderOptions reader;
  HoldoutOptions holdout;  // test_fraction 0: train on all, no evaluation
  AlsOptions als;
  int k = 10;
  // Holdout users sampled for the per-iteration progress metrics; 0 = none.
  int64_t progress_eval_users = 1000;
  // Holdout users (a seeded sample) of the final evaluation; 0 = all.
  int64_t eval_users = 10000;
  // The PureSVD baseline beside most-popular (factors 0: none).
  eval::PureSvdOptions puresvd;
  std::string report_html;   // optional
  std::string metrics_json;  // optional
  // Command-line parameters recorded in the model metadata and the reports.
  std::vector<std::pair<std::string, std::string>> parameters;
};

// Runs the job, logging one line per step and per iteration to `log`.
// Errors: those of the reader (InvalidArgument/NotFound for bad input),
// the solver, evaluation or the store.
absl::StatusOr<affinity::v1::TrainingReport> RunTrainingJob(
    const TrainingJobConfig& config, std::ostream& log);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_TRAINING_JOB_H_
