// The auto-promotion rule against hand computations (z = 1.959964):
//
//   control 200/10000 (2.0%), canary 210/10000 (2.1%): d = +0.1 pp,
//   se = sqrt(0.02*0.98/10000 + 0.021*0.979/10000) = 0.0020040,
//   95% interval [-0.293, +0.493] pp.
//   control 300/10000 (3.0%), canary 250/10000 (2.5%): d = -0.5 pp,
//   se = sqrt(0.03*0.97/10000 + 0.025*0.975/10000) = 0.0023124,
//   95% interval [-0.953, -0.047] pp.
//
// and at the thresholds exactly: impressions equal to min_impressions, and
// a lower end equal to -max_ctr_drop (zero-width intervals at 0% and 100%).
#include "server/rollout/auto_promote.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::server::rollout {
namespace {

using ::testing::HasSubstr;

affinity::v1::AutoPromoteRule Rule(int64_t min_impressions, double max_ctr_drop) {
  affinity::v1::AutoPromoteRule rule;
  rule.set_enabled(true);
  rule.set_min_impressions(min_impressions);
  rule.set_max_ctr_drop(max_ctr_drop);
  return rule;
}

TEST(AutoPromoteTest, PromotesWhenTheLowerEndIsAboveTheAllowedDrop) {
  const AutoPromoteDecision d = DecideAutoPromote(Rule(1000, 0.005), {200, 10000}, {210, 10000});
  EXPECT_EQ(d.action, AutoPromoteAction::kPromote);
  EXPECT_EQ(d.reason,
            "promote: control 10000 impressions, CTR 2.000%; canary 10000 impressions, CTR "
            "2.100%; canary - control +0.100 pp [95% CI -0.293, +0.493]; rule: >= 1000 "
            "impressions each and the lower end above -0.500 pp");
}

TEST(AutoPromoteTest, WaitsWhenADropLargerThanAllowedIsStillPossible) {
  // -0.293 pp is below -0.25 pp: the data do not rule out a larger drop.
  const AutoPromoteDecision d = DecideAutoPromote(Rule(1000, 0.0025), {200, 10000}, {210, 10000});
  EXPECT_EQ(d.action, AutoPromoteAction::kWait);
  EXPECT_THAT(d.reason, HasSubstr("wait: control 10000 impressions"));
  EXPECT_THAT(d.reason, HasSubstr("[95% CI -0.293, +0.493]"));
  EXPECT_THAT(d.reason, HasSubstr("lower end above -0.250 pp"));
  // A clear drop: [-0.953, -0.047] pp.
  const AutoPromoteDecision worse =
      DecideAutoPromote(Rule(1000, 0.005), {300, 10000}, {250, 10000});
  EXPECT_EQ(worse.action, AutoPromoteAction::kWait);
  EXPECT_THAT(worse.reason, HasSubstr("canary - control -0.500 pp [95% CI -0.953, -0.047]"));
  // ... which a tolerance of 1 pp accepts.
  EXPECT_EQ(DecideAutoPromote(Rule(1000, 0.01), {300, 10000}, {250, 10000}).action,
            AutoPromoteAction::kPromote);
}

TEST(AutoPromoteTest, NeedsMinImpressionsInBothArmsCountingTheThresholdItself) {
  EXPECT_EQ(DecideAutoPromote(Rule(10000, 0.005), {200, 10000}, {210, 10000}).action,
            AutoPromoteAction::kPromote);
  const AutoPromoteDecision short_canary =
      DecideAutoPromote(Rule(10000, 0.005), {200, 10000}, {210, 9999});
  EXPECT_EQ(short_canary.action, AutoPromoteAction::kWait);
  EXPECT_EQ(short_canary.reason,
            "wait: control 10000 impressions, CTR 2.000%; canary 9999 impressions, CTR 2.100%; "
            "rule: >= 10000 impressions each and the lower end above -0.500 pp");
  EXPECT_EQ(DecideAutoPromote(Rule(10000, 0.005), {200, 9999}, {210, 10000}).action,
            AutoPromoteAction::kWait);
  const AutoPromoteDecision empty = DecideAutoPromote(Rule(1, 0.005), {0, 0}, {0, 0});
  EXPECT_EQ(empty.action, AutoPromoteAction::kWait);
  EXPECT_EQ(empty.reason,
            "wait: control 0 impressions; canary 0 impressions; rule: >= 1 impressions each and "
            "the lower end above -0.500 pp");
}

TEST(AutoPromoteTest, ALowerEndExactlyAtTheAllowedDropWaits) {
  // No clicks anywhere: d = 0 with a zero-width interval, lower end 0.
  EXPECT_EQ(DecideAutoPromote(Rule(100, 0.0), {0, 100}, {0, 100}).action, AutoPromoteAction::kWait);
  EXPECT_EQ(DecideAutoPromote(Rule(100, 0.0001), {0, 100}, {0, 100}).action,
            AutoPromoteAction::kPromote);
  // Control 100%, canary 0%: d = -1 exactly, lower end -1.
  const AutoPromoteDecision worst = DecideAutoPromote(Rule(100, 1.0), {100, 100}, {0, 100});
  EXPECT_EQ(worst.action, AutoPromoteAction::kWait);
  EXPECT_THAT(worst.reason, HasSubstr("-100.000 pp [95% CI -100.000, -100.000]"));
  EXPECT_THAT(worst.reason, HasSubstr("lower end above -100.000 pp"));
}

TEST(AutoPromoteTest, WaitsWhenOffOrGivenImpossibleCounts) {
  affinity::v1::AutoPromoteRule off = Rule(1, 1.0);
  off.set_enabled(false);
  const AutoPromoteDecision d = DecideAutoPromote(off, {200, 10000}, {210, 10000});
  EXPECT_EQ(d.action, AutoPromoteAction::kWait);
  EXPECT_EQ(d.reason, "wait: auto-promotion is off");
  const AutoPromoteDecision bad = DecideAutoPromote(Rule(1, 1.0), {200, 10000}, {11, 10});
  EXPECT_EQ(bad.action, AutoPromoteAction::kWait);
  EXPECT_THAT(bad.reason, HasSubstr("canary: 11 clicks out of 10 impressions"));
}

}  // namespace
}  // namespace affinity::server::rollout
