#include "trainer/nightly/gate.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace affinity {

using affinity::v1::GateRecord;

namespace {

// How far the candidate is worse than live, beyond the tolerance (> 0:
// failed by that much).
double Shortfall(const GateRecord& gate, bool lower_is_better) {
  const double worse = lower_is_better ? gate.candidate_value() - gate.live_value()
                                       : gate.live_value() - gate.candidate_value();
  return worse - gate.tolerance();
}

}  // namespace

bool LowerIsBetter(const std::string& metric) { return metric == "rmse" || metric == "mae"; }

GateRecord DecideGate(const MetricComparison& c, const GateOptions& options,
                      uint64_t live_version, const std::string& method) {
  GateRecord gate;
  gate.set_metric(options.metric);
  gate.set_candidate_value(c.candidate);
  gate.set_live_value(c.live);
  gate.set_live_version(live_version);
  gate.set_tolerance(options.tolerance);
  gate.set_difference(c.difference);
  gate.set_difference_ci_low(c.ci_low);
  gate.set_difference_ci_high(c.ci_high);
  gate.set_significant(c.ci_low > 0 || c.ci_high < 0);
  gate.set_method(method);
  gate.set_users_compared(c.compared);
  const bool failed = Shortfall(gate, c.lower_is_better) > 0;
  gate.set_outcome(!failed ? GateRecord::PASSED
                           : options.force ? GateRecord::FORCED : GateRecord::FAILED);
  return gate;
}

GateRecord FirstVersionGate(const std::string& metric) {
  GateRecord gate;
  gate.set_outcome(GateRecord::FIRST);
  gate.set_metric(metric);
  gate.set_method("no live version to compare with: the first version of the store passes");
  return gate;
}

GateRecord NotComparableGate(const GateOptions& options, uint64_t live_version,
                             const std::string& why) {
  GateRecord gate;
  gate.set_outcome(options.force ? GateRecord::FORCED : GateRecord::NOT_COMPARABLE);
  gate.set_metric(options.metric);
  gate.set_live_version(live_version);
  gate.set_tolerance(options.tolerance);
  gate.set_method(why);
  return gate;
}

bool GatePassed(const GateRecord& gate) {
  return gate.outcome() != GateRecord::FAILED && gate.outcome() != GateRecord::NOT_COMPARABLE;
}

std::string GateSummary(const GateRecord& gate) {
  const bool lower = LowerIsBetter(gate.metric());
  switch (gate.outcome()) {
    case GateRecord::NOT_GATED: return "not gated";
    case GateRecord::FIRST: return "first";
    case GateRecord::PASSED: return "passed";
    case GateRecord::FAILED:
      return absl::StrFormat("failed by %.4f", Shortfall(gate, lower));
    case GateRecord::FORCED: return "forced";
    case GateRecord::NOT_COMPARABLE: return "not comparable";
    default: return "unknown";
  }
}

std::string DescribeGate(const GateRecord& gate) {
  const bool lower = LowerIsBetter(gate.metric());
  const std::string noise = absl::StrFormat(
      "95%% interval of the difference %+.4f .. %+.4f over %d %s: %s", gate.difference_ci_low(),
      gate.difference_ci_high(), gate.users_compared(), lower ? "ratings" : "users",
      gate.significant() ? "beyond the noise" : "within the noise");
  const std::string figures = absl::StrFormat(
      "%s %.4f vs %.4f for live version %d (difference %+.4f, tolerance %.4f; %s)",
      gate.metric(), gate.candidate_value(), gate.live_value(), gate.live_version(),
      gate.difference(), gate.tolerance(), noise);
  switch (gate.outcome()) {
    case GateRecord::FIRST:
      return "gate passed: first version of the store, nothing to compare with";
    case GateRecord::PASSED:
      return "gate passed: " + figures;
    case GateRecord::FAILED:
      return absl::StrFormat("gate FAILED by %.4f: %s", Shortfall(gate, lower), figures);
    case GateRecord::FORCED:
      return gate.users_compared() > 0
                 ? absl::StrFormat("gate overridden by --force (it failed by %.4f): %s",
                                   Shortfall(gate, lower), figures)
                 : "gate overridden by --force: " + gate.method();
    case GateRecord::NOT_COMPARABLE:
      return "gate FAILED: not comparable: " + gate.method();
    case GateRecord::NOT_GATED:
    default:
      return "not gated";
  }
}

}  // namespace affinity
