// When a canary is promoted without a person: the policy's AutoPromoteRule
// (proto/affinity/v1/rollout.proto) applied to the click counts of control
// and canary (counted for the model versions now resolved in those arms).
//
// Rule: promote when the rule is enabled, both arms have at least
// min_impressions impressions, and the lower end of the 95% interval of
// the CTR difference (canary - control; server/rollout/outcome_stats.h,
// unpooled normal approximation) is strictly above -max_ctr_drop. At the
// threshold exactly (lower end == -max_ctr_drop) the decision is to wait.
// Otherwise wait: more data may still show a drop, or rule it out.
//
// The reason is for people and the rollout history: the decision, both
// arms' impressions and CTRs, the difference with its interval and the
// rule, e.g. "promote: control 10000 impressions, CTR 2.000%; canary 10000
// impressions, CTR 2.100%; canary - control +0.100 pp [95% CI -0.293,
// +0.493]; rule: >= 1000 impressions each and the lower end above
// -0.500 pp".
//
// Thread safety: a pure function. Invalid counts (negative, more clicks
// than impressions) give kWait with the problem as the reason; nothing
// throws.
#ifndef AFFINITY_SERVER_ROLLOUT_AUTO_PROMOTE_H_
#define AFFINITY_SERVER_ROLLOUT_AUTO_PROMOTE_H_

#include <string>

#include "affinity/v1/rollout.pb.h"
#include "server/rollout/outcome_stats.h"

namespace affinity::server::rollout {

enum class AutoPromoteAction { kWait, kPromote };

struct AutoPromoteDecision {
  AutoPromoteAction action = AutoPromoteAction::kWait;
  std::string reason;
};

AutoPromoteDecision DecideAutoPromote(const affinity::v1::AutoPromoteRule& rule,
                                      const ClickCounts& control, const ClickCounts& canary);

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_AUTO_PROMOTE_H_
