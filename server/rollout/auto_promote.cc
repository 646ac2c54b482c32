#include "server/rollout/auto_promote.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity::server::rollout {
namespace {

std::string Arm(absl::string_view name, const ClickCounts& counts) {
  std::string out = absl::StrCat(name, " ", counts.impressions, " impressions");
  if (counts.impressions > 0) {
    absl::StrAppend(
        &out, absl::StrFormat(", CTR %.3f%%",
                              100.0 * counts.clicks / static_cast<double>(counts.impressions)));
  }
  return out;
}

std::string Rule(const affinity::v1::AutoPromoteRule& rule) {
  return absl::StrFormat("rule: >= %d impressions each and the lower end above %+.3f pp",
                         rule.min_impressions(), 0.0 - 100 * rule.max_ctr_drop());
}

AutoPromoteDecision Wait(std::string reason) {
  return AutoPromoteDecision{AutoPromoteAction::kWait, absl::StrCat("wait: ", reason)};
}

}  // namespace

AutoPromoteDecision DecideAutoPromote(const affinity::v1::AutoPromoteRule& rule,
                                      const ClickCounts& control, const ClickCounts& canary) {
  if (!rule.enabled()) return Wait("auto-promotion is off");
  if (absl::Status s = ValidateClickCounts(control, "control"); !s.ok()) {
    return Wait(std::string(s.message()));
  }
  if (absl::Status s = ValidateClickCounts(canary, "canary"); !s.ok()) {
    return Wait(std::string(s.message()));
  }
  const std::string arms = absl::StrCat(Arm("control", control), "; ", Arm("canary", canary));
  if (control.impressions < rule.min_impressions() || canary.impressions < rule.min_impressions() ||
      control.impressions == 0 || canary.impressions == 0) {
    return Wait(absl::StrCat(arms, "; ", Rule(rule)));
  }
  const std::optional<CtrComparison> comparison = CompareCtr(control, canary);
  if (!comparison.has_value()) return Wait(absl::StrCat(arms, "; ", Rule(rule)));
  const Interval& d = comparison->difference;
  const std::string figures =
      absl::StrFormat("%s; canary - control %+.3f pp [95%% CI %+.3f, %+.3f]; %s", arms,
                      100 * d.estimate, 100 * d.low, 100 * d.high, Rule(rule));
  if (d.low > -rule.max_ctr_drop()) {
    return AutoPromoteDecision{AutoPromoteAction::kPromote, absl::StrCat("promote: ", figures)};
  }
  return Wait(figures);
}

}  // namespace affinity::server::rollout
