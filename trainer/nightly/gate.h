// The nightly quality gate: may a candidate serve, given how it compares
// with the live version on interactions neither was trained on?
//
// A candidate fails when its gate metric is worse than the live version's
// by more than the tolerance (absolute): candidate < live - tolerance for
// ranking metrics, candidate > live + tolerance for rmse and mae. Whether
// the difference is beyond the noise (its 95% interval excludes 0) is
// recorded and reported beside, but does not decide. --force turns a
// failure (or an impossible comparison) into FORCED. Pure functions.
#ifndef AFFINITY_TRAINER_NIGHTLY_GATE_H_
#define AFFINITY_TRAINER_NIGHTLY_GATE_H_

#include <cstdint>
#include <string>

#include "affinity/v1/model.pb.h"

namespace affinity {

// The process exit code of a nightly run whose candidate the gate refused
// (0 success, 1 failure, 2 bad input or usage).
inline constexpr int kGateRefusedExitCode = 3;

struct GateOptions {
  std::string metric;        // e.g. "ndcg_at_10", "rmse"
  double tolerance = 0.01;   // absolute, >= 0
  bool force = false;
};

// One metric of the candidate and the live version on the same users or
// ratings: their values and the paired difference candidate - live.
struct MetricComparison {
  bool lower_is_better = false;
  double candidate = 0;
  double live = 0;
  double difference = 0;
  double ci_low = 0;
  double ci_high = 0;
  int64_t compared = 0;  // users (ranking) or ratings
};

// True for "rmse" and "mae".
bool LowerIsBetter(const std::string& metric);

affinity::v1::GateRecord DecideGate(const MetricComparison& comparison,
                                    const GateOptions& options, uint64_t live_version,
                                    const std::string& method);
// The store has no live version.
affinity::v1::GateRecord FirstVersionGate(const std::string& metric);
// Nothing to compare on (`why`); FORCED with options.force.
affinity::v1::GateRecord NotComparableGate(const GateOptions& options, uint64_t live_version,
                                           const std::string& why);

// Whether a version with this record may serve.
bool GatePassed(const affinity::v1::GateRecord& gate);

// One line for people: the outcome, the figures, by how much it failed.
std::string DescribeGate(const affinity::v1::GateRecord& gate);
// A few words for listings: "passed", "failed by 0.0321", "forced", ...
std::string GateSummary(const affinity::v1::GateRecord& gate);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_GATE_H_
