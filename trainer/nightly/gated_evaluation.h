// Scores a candidate and the live version on the same held-out
// interactions and the same sample of users, beside most-popular and
// PureSVD, prints them side by side, and lets the gate (gate.h) decide.
// Used by `affinity-train nightly` and `affinity-train import`.
#ifndef AFFINITY_TRAINER_NIGHTLY_GATED_EVALUATION_H_
#define AFFINITY_TRAINER_NIGHTLY_GATED_EVALUATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"
#include "trainer/eval/eval_options.h"
#include "trainer/eval/pure_svd.h"
#include "trainer/nightly/gate.h"

namespace affinity {

// A model scored by users.row(u) . items.row(i) in the index space of the
// train/test matrices. Not owned.
struct ScoredModel {
  std::string name;
  const FactorMatrix* users = nullptr;
  const FactorMatrix* items = nullptr;
  // Its scores are rating predictions (explicit models): RMSE and MAE are
  // reported beside the ranking metrics.
  bool predicts_ratings = false;
};

struct GatedEvaluationInput {
  const CsrMatrix* train = nullptr;  // excluded from every ranked list
  const CsrMatrix* test = nullptr;   // may be empty: nothing to compare on
  ScoredModel candidate;
  std::optional<ScoredModel> live;   // unset: the first version of a store
  uint64_t live_version = 0;
  // k, threads, seed and max_users (the user sample); per-user values are
  // kept inside.
  eval::EvalOptions eval_options;
  eval::PureSvdOptions puresvd;  // factors 0: no PureSVD column
  // gate.metric set by the caller ("ndcg_at_10", "rmse", ...).
  GateOptions gate;
  // How the held-out interactions were chosen, in words (recorded).
  std::string comparison;
};

struct GatedEvaluation {
  affinity::v1::GateRecord gate;
  // For ModelMetadata.metrics: the candidate's ("ndcg_at_10", ...), the
  // live version's ("live.ndcg_at_10"), and the baselines'
  // ("popularity.", "puresvd.").
  std::map<std::string, double> metrics;
};

// Logs the table and the gate's verdict; fills report's model, live,
// popularity, puresvd, rating fields and gate.
absl::StatusOr<GatedEvaluation> EvaluateAndGate(const GatedEvaluationInput& input,
                                                std::ostream& log,
                                                affinity::v1::TrainingReport* report);

// "ndcg_at_10" -> "ndcg_at_k", the name eval/paired_comparison.h knows.
std::string GenericMetricName(const std::string& metric, int k);

// InvalidArgument naming --gate_metric unless it is empty or a metric of the
// report at this k.
absl::Status ValidateGateMetric(const std::string& metric, int k);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_GATED_EVALUATION_H_
