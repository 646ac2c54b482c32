#include "trainer/nightly/nightly_flags.h"

#include "absl/flags/flag.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, gate_metric, "",
          "nightly: the metric the gate compares (precision_at_K, recall_at_K, ndcg_at_K, "
          "map_at_K, rmse, mae); empty = rmse for explicit models, ndcg_at_K otherwise.");
ABSL_FLAG(double, gate_tolerance, 0.01,
          "nightly: how much worse than the live version (absolute) the candidate may be.");
ABSL_FLAG(bool, force, false,
          "nightly: publish even when the gate refuses the candidate (recorded as forced).");
ABSL_FLAG(bool, refit, true,
          "nightly: after the gate, retrain on all interactions (held-out ones included).");
ABSL_FLAG(double, min_input_ratio, 0.5,
          "nightly: refuse, before training, an input with fewer interactions than this "
          "fraction of the live version's (a truncated export); 0 turns it off.");
ABSL_FLAG(int, keep_versions, 7,
          "nightly: the newest versions kept; every version the rollout refers to (live, "
          "pinned, an arm, the shadow, the rollback target) is kept as well.");

namespace affinity {

absl::StatusOr<NightlyConfig> NightlyConfigFromFlags() {
  auto training = TrainingJobConfigFromFlags();
  if (!training.ok()) return training.status();
  NightlyConfig c;
  c.training = *std::move(training);
  if (c.training.db.empty()) {
    return absl::InvalidArgumentError("--db: expected the model store directory");
  }
  c.gate_metric = absl::GetFlag(FLAGS_gate_metric);
  c.gate_tolerance = absl::GetFlag(FLAGS_gate_tolerance);
  if (!(c.gate_tolerance >= 0)) {
    return absl::InvalidArgumentError("--gate_tolerance: expected an absolute value >= 0");
  }
  c.force = absl::GetFlag(FLAGS_force);
  c.refit = absl::GetFlag(FLAGS_refit);
  c.min_input_ratio = absl::GetFlag(FLAGS_min_input_ratio);
  if (!(c.min_input_ratio >= 0 && c.min_input_ratio <= 1)) {
    return absl::InvalidArgumentError("--min_input_ratio: expected a fraction in [0, 1]");
  }
  c.keep_versions = absl::GetFlag(FLAGS_keep_versions);
  if (c.keep_versions < 1) {
    return absl::InvalidArgumentError("--keep_versions: expected at least 1");
  }
  return c;
}

}  // namespace affinity
