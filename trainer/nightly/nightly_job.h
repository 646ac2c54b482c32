// `affinity-train nightly`: the job an ML engineer leaves unattended.
//
// In order:
//  1. Idempotence: the fingerprint of the input bytes and of every
//     parameter that changes the model (fingerprint.h). When the newest
//     version has it, nothing is trained or published (outcome kSkipped).
//  2. Fair evaluation: the candidate is trained without the held-out
//     interactions that the live version never saw either
//     (comparison_split.h: newer than the live version's data when both
//     have timestamps, else absent from its data), and both are scored on
//     them for the same sample of users, beside most-popular and PureSVD.
//     The first version of a store uses the --holdout split instead.
//  3. The gate (gate.h): a candidate worse than live by more than the
//     tolerance is stored but ineligible (outcome kGated); --force
//     publishes it anyway, recorded as FORCED.
//  4. Refit: a candidate that passed is retrained on all interactions
//     (held-out ones included) before it is published, unless refit is off.
//  5. Retention (retention.h).
// Before training, an input much smaller than the live version's data
// (min_input_ratio) is refused: a truncated export is not a model to train.
// Each step logs its progress and wall time to `log`; the result's summary
// line (not logged) says what happened: published, gated or skipped.
// Errors: those of the reader (InvalidArgument / NotFound for bad input),
// the solvers, evaluation and the store. Nothing is published on error.
#ifndef AFFINITY_TRAINER_NIGHTLY_NIGHTLY_JOB_H_
#define AFFINITY_TRAINER_NIGHTLY_NIGHTLY_JOB_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/training_job.h"

namespace affinity {

struct NightlyConfig {
  // Input, store, reader, solver, k, the first version's holdout, the
  // evaluation sample and the report paths. training.publish is ignored.
  TrainingJobConfig training;
  // "ndcg_at_k" style names with k spelled out ("ndcg_at_10"), or "rmse" /
  // "mae"; empty: rmse for explicit models compared with an explicit live
  // version, ndcg_at_<k> otherwise.
  std::string gate_metric;
  double gate_tolerance = 0.01;
  bool force = false;
  bool refit = true;
  int keep_versions = 7;
  // An input with fewer interactions than this fraction of the live
  // version's is refused before training (kGated, version 0, nothing
  // stored) unless force; 0 turns the check off.
  double min_input_ratio = 0.5;
};

enum class NightlyOutcome { kSkipped, kPublished, kGated };

struct NightlyResult {
  NightlyOutcome outcome = NightlyOutcome::kSkipped;
  // The version published or stored, or the one that already covers the
  // input (kSkipped).
  uint64_t version = 0;
  // One line: outcome, version, gate, training data, time per step.
  std::string summary;
  affinity::v1::TrainingReport report;
};

absl::StatusOr<NightlyResult> RunNightlyJob(const NightlyConfig& config, std::ostream& log);

// The parameters that change the published model, by name, from a config:
// what the fingerprint covers.
std::map<std::string, std::string> ModelParameters(const NightlyConfig& config);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_NIGHTLY_JOB_H_
