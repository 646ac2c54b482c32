// `affinity rollout status` grouping: only unforced rows of the resolved
// (arm, version) pairs are compared; forced traffic is listed apart and
// traffic of other arms or versions is summed as not counted.
#include "tools/cli/rollout_outcomes.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::cli {
namespace {

using ::testing::HasSubstr;

storage::ArmOutcomeCounts Group(const std::string& arm, uint64_t version, bool forced,
                                int64_t requests, int64_t impressions, int64_t clicks) {
  storage::ArmOutcomeCounts group;
  group.arm = arm;
  group.model_version = version;
  group.forced = forced;
  group.counts.requests = requests;
  group.counts.impressions = impressions;
  group.counts.clicks = clicks;
  return group;
}

TEST(RolloutOutcomesTest, ComparesOnlyTheResolvedArmsUnforcedTraffic) {
  affinity::v1::ResolvedRollout resolved;
  auto add = [&](const std::string& name, uint64_t version, int32_t bp) {
    auto* arm = resolved.add_arms();
    arm->set_name(name);
    arm->set_version(version);
    arm->set_basis_points(bp);
  };
  add("control", 1, 8500);
  add("treatment", 3, 1000);
  add("canary", 5, 500);
  const std::vector<storage::ArmOutcomeCounts> counts = {
      Group("control", 1, false, 100, 1000, 20), Group("control", 1, true, 5, 50, 5),
      Group("gone", 9, false, 3, 30, 0),         Group("treatment", 2, false, 7, 70, 1),
      Group("treatment", 3, false, 10, 100, 4),
  };
  const RolloutOutcomes outcomes = GroupOutcomes(resolved, counts);
  ASSERT_EQ(outcomes.arms.size(), 3u);
  EXPECT_EQ(outcomes.arms[0].arm, "control");
  EXPECT_EQ(outcomes.arms[0].model_version, 1u);
  EXPECT_EQ(outcomes.arms[0].requests, 100);
  EXPECT_EQ(outcomes.arms[0].impressions, 1000);
  EXPECT_EQ(outcomes.arms[0].clicks, 20);
  EXPECT_EQ(outcomes.arms[1].arm, "treatment");
  EXPECT_EQ(outcomes.arms[1].impressions, 100);
  EXPECT_EQ(outcomes.arms[1].clicks, 4);
  EXPECT_EQ(outcomes.arms[2].arm, "canary");
  EXPECT_EQ(outcomes.arms[2].impressions, 0);
  ASSERT_EQ(outcomes.forced.size(), 1u);
  EXPECT_EQ(outcomes.forced[0].arm, "control");
  EXPECT_EQ(outcomes.other.requests, 10);
  EXPECT_EQ(outcomes.other.impressions, 100);
  EXPECT_EQ(outcomes.other.clicks, 1);

  absl::StatusOr<std::string> text = FormatOutcomes(outcomes);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("control          1       100         1000      20  2.000%"));
  EXPECT_THAT(*text, HasSubstr("canary           5         0            0       0  -"));
  EXPECT_THAT(*text, HasSubstr("forced arm control version 1 (not compared): 5 requests, 50 "
                               "impressions, 5 clicks, CTR 10.000%\n"));
  EXPECT_THAT(*text, HasSubstr("not counted (arms or versions not served now): 10 requests, "
                               "100 impressions, 1 clicks, CTR 1.000%\n"));
}

TEST(RolloutOutcomesTest, AppliesTheAutoPromotionRuleToControlAndCanary) {
  affinity::v1::ResolvedRollout resolved;
  for (const auto& [name, version] : {std::pair<std::string, uint64_t>{"control", 1},
                                      std::pair<std::string, uint64_t>{"canary", 2}}) {
    auto* arm = resolved.add_arms();
    arm->set_name(name);
    arm->set_version(version);
    arm->set_basis_points(5000);
  }
  const RolloutOutcomes outcomes = GroupOutcomes(
      resolved,
      {Group("canary", 2, false, 0, 10000, 210), Group("control", 1, false, 0, 10000, 200),
       // Forced canary traffic with no clicks would sink its CTR if counted.
       Group("canary", 2, true, 0, 10000, 0)});
  affinity::v1::RolloutState state;
  EXPECT_EQ(DescribeAutoPromotion(state, outcomes), "");
  state.mutable_policy()->set_mode(affinity::v1::NewVersionPolicy::CANARY);
  state.mutable_policy()->set_canary_basis_points(5000);
  auto* rule = state.mutable_policy()->mutable_auto_promote();
  rule->set_enabled(true);
  rule->set_min_impressions(1000);
  rule->set_max_ctr_drop(0.005);
  EXPECT_EQ(DescribeAutoPromotion(state, outcomes),
            "auto-promote: promote: control 10000 impressions, CTR 2.000%; canary 10000 "
            "impressions, CTR 2.100%; canary - control +0.100 pp [95% CI -0.293, +0.493]; rule: "
            ">= 1000 impressions each and the lower end above -0.500 pp");
  resolved.mutable_arms()->RemoveLast();
  EXPECT_EQ(DescribeAutoPromotion(state, GroupOutcomes(resolved, {})),
            "auto-promote: no canary serves");
}

}  // namespace
}  // namespace affinity::cli
