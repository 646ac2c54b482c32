#include "tools/cli/rollout_outcomes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/rollout/auto_promote.h"

namespace affinity::cli {
namespace {

void Add(storage::OutcomeCounts& into, const storage::OutcomeCounts& counts) {
  into.requests += counts.requests;
  into.impressions += counts.impressions;
  into.clicks += counts.clicks;
  into.conversions += counts.conversions;
}

std::string Counts(const storage::OutcomeCounts& c) {
  std::string out =
      absl::StrCat(c.requests, " requests, ", c.impressions, " impressions, ", c.clicks, " clicks");
  if (c.impressions > 0) {
    absl::StrAppend(&out, absl::StrFormat(", CTR %.3f%%", 100.0 * c.clicks / c.impressions));
  }
  return out;
}

}  // namespace

RolloutOutcomes GroupOutcomes(const affinity::v1::ResolvedRollout& resolved,
                              const std::vector<storage::ArmOutcomeCounts>& counts) {
  RolloutOutcomes out;
  for (const affinity::v1::ResolvedArm& arm : resolved.arms()) {
    server::rollout::ArmStatsRow row;
    row.arm = arm.name();
    row.model_version = arm.version();
    out.arms.push_back(row);
  }
  for (const storage::ArmOutcomeCounts& group : counts) {
    if (group.forced) {
      out.forced.push_back(group);
      continue;
    }
    bool matched = false;
    for (server::rollout::ArmStatsRow& row : out.arms) {
      if (row.arm == group.arm && row.model_version == group.model_version) {
        row.requests += group.counts.requests;
        row.impressions += group.counts.impressions;
        row.clicks += group.counts.clicks;
        matched = true;
        break;
      }
    }
    if (!matched) Add(out.other, group.counts);
  }
  return out;
}

std::string DescribeAutoPromotion(const affinity::v1::RolloutState& state,
                                  const RolloutOutcomes& outcomes) {
  const affinity::v1::NewVersionPolicy& policy = state.policy();
  if (policy.mode() != affinity::v1::NewVersionPolicy::CANARY || !policy.auto_promote().enabled() ||
      outcomes.arms.empty()) {
    return "";
  }
  const server::rollout::ArmStatsRow* canary = nullptr;
  for (const server::rollout::ArmStatsRow& row : outcomes.arms) {
    if (row.arm == "canary") canary = &row;
  }
  if (canary == nullptr) return "auto-promote: no canary serves";
  const server::rollout::ArmStatsRow& control = outcomes.arms[0];
  const server::rollout::AutoPromoteDecision decision = server::rollout::DecideAutoPromote(
      policy.auto_promote(), {control.clicks, control.impressions},
      {canary->clicks, canary->impressions});
  return absl::StrCat("auto-promote: ", decision.reason);
}

absl::StatusOr<std::string> FormatOutcomes(const RolloutOutcomes& outcomes) {
  absl::StatusOr<std::string> table = server::rollout::FormatArmTable(outcomes.arms);
  if (!table.ok()) return table.status();
  std::string out = *std::move(table);
  for (const storage::ArmOutcomeCounts& group : outcomes.forced) {
    absl::StrAppend(&out, "forced arm ", group.arm, " version ", group.model_version,
                    " (not compared): ", Counts(group.counts), "\n");
  }
  const storage::OutcomeCounts& other = outcomes.other;
  if (other.requests != 0 || other.impressions != 0 || other.clicks != 0 ||
      other.conversions != 0) {
    absl::StrAppend(&out, "not counted (arms or versions not served now): ", Counts(other), "\n");
  }
  return out;
}

}  // namespace affinity::cli
