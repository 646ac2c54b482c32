// `affinity rollout status`: the outcome counters of a store (EventReader::
// Counts over DIR/events) grouped by the currently resolved arms.
//
// Only rows whose (arm, model version) match a resolved arm and whose arm
// was drawn by the bucket function are compared; traffic with a forced arm
// (QA, demos) is listed on its own lines, and traffic of arms or versions no
// longer resolved is summed into one "not counted" line. Under the canary
// policy the auto-promotion rule is applied to control and canary.
//
// Contract: pure functions, thread-safe; nothing throws.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_OUTCOMES_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_OUTCOMES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/rollout.pb.h"
#include "server/rollout/outcome_stats.h"
#include "storage/event_reader.h"

namespace affinity::cli {

struct RolloutOutcomes {
  // One row per resolved arm, control first (zeros when nothing was
  // recorded for it).
  std::vector<server::rollout::ArmStatsRow> arms;
  // Every group with a forced arm.
  std::vector<storage::ArmOutcomeCounts> forced;
  // Unforced traffic of arms or versions that are not resolved now.
  storage::OutcomeCounts other;
};

RolloutOutcomes GroupOutcomes(const affinity::v1::ResolvedRollout& resolved,
                              const std::vector<storage::ArmOutcomeCounts>& counts);

// Under the canary policy with auto-promotion on, "auto-promote: " and the
// rule's decision for the canary arm (server/rollout/auto_promote.h) from
// `outcomes`, or why there is nothing to decide; empty otherwise.
std::string DescribeAutoPromotion(const affinity::v1::RolloutState& state,
                                  const RolloutOutcomes& outcomes);

// The per-arm table (server/rollout/outcome_stats.h, FormatArmTable), then
// a line per forced group and the "not counted" line when it is not empty.
// InvalidArgument when there is no arm or a counter is inconsistent.
absl::StatusOr<std::string> FormatOutcomes(const RolloutOutcomes& outcomes);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_OUTCOMES_H_
