// How `affinity rollout` prints rollouts: the `show` block of one target
// (resolved arms with version, share and bucket range, control, shadow,
// policy, revision, who changed it last, warnings), the DISAGREE lines of
// several targets, the `history` entries, one-line state summaries and the
// field-by-field description of a change.
//
// Contract: pure functions of their arguments (times in UTC), thread-safe;
// nothing throws.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_FORMAT_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "affinity/v1/admin.pb.h"
#include "affinity/v1/rollout.pb.h"

namespace affinity::cli {

// "10%", "0.01%", "12.5%", "100%": basis points as a percentage.
std::string FormatShare(int32_t basis_points);

// "auto-promotion off", or the rule in words with its figures.
std::string DescribeAutoPromote(const affinity::v1::AutoPromoteRule& rule);

// One line, e.g. "control=1 treatment=3@10% canary@5%+auto shadow=4@1%
// prev=2 salt=exp-1" ("control=newest" when control is not pinned).
std::string SummarizeState(const affinity::v1::RolloutState& state);

// The resolved arms on one line, e.g. "control=1@90% treatment=3@10%", or
// "none (REASON)" when nothing serves.
std::string SummarizeResolved(const affinity::v1::RolloutStatus& status);

// One line per field that differs ("arm treatment: version 3 on 10% ->
// removed"); empty when the states are the same (bookkeeping fields
// revision and updated_* are ignored).
std::vector<std::string> DescribeStateChange(const affinity::v1::RolloutState& before,
                                             const affinity::v1::RolloutState& after);

// `show` of one target named `target` (a directory or HOST:PORT).
std::string FormatRolloutStatus(const std::string& target,
                                const affinity::v1::RolloutStatus& status);

// One "DISAGREE: <aspect>: T1 has X; T2 has Y" line per aspect (resolved
// arms with versions and shares, salt, shadow, policy) on which the
// statuses differ; empty when they agree. targets[i] names statuses[i].
std::vector<std::string> Disagreements(const std::vector<std::string>& targets,
                                       const std::vector<affinity::v1::RolloutStatus>& statuses);

// `history`: per change its revision, time, action, who, reason and the
// before -> after summary.
std::string FormatRolloutHistory(const std::vector<affinity::v1::RolloutChange>& changes);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_FORMAT_H_
