// Outcome statistics against hand computations and published values:
// Wilson score intervals, the unpooled difference interval, the pooled
// two-proportion z-test, the edge cases (no impressions, no clicks, all
// clicks) and the per-arm table.
#include "server/rollout/outcome_stats.h"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace affinity::server::rollout {
namespace {

constexpr double kTight = 1e-9;
// Published values are rounded to 4 decimals.
constexpr double kPublished = 5e-5;

TEST(CtrIntervalTest, WilsonScoreByHand) {
  // 100 clicks of 2000 impressions: p = 0.05, z^2 = 3.8414588206941254.
  //   1 + z^2/n     = 1 + 3.8414588206941254 / 2000 = 1.0019207294103472
  //   p + z^2/(2n)  = 0.05 + 0.0009603647051735 = 0.0509603647051735
  //   center        = 0.0509603647051735 / 1.0019207294103472 = 0.0508626712765638
  //   p(1-p)/n + z^2/(4n^2) = 0.0000237500 + 0.0000002400911763 = 0.0000239900911763
  //   half          = 1.959963984540054 / 1.0019207294103472 * sqrt(0.0000239900911763)
  //                 = 1.9562066 * 0.0048979680660753 = 0.0095814376578321
  //   interval      = [0.0412812336, 0.0604441089]
  const std::optional<Interval> ctr = CtrInterval({100, 2000});
  ASSERT_TRUE(ctr.has_value());
  EXPECT_DOUBLE_EQ(ctr->estimate, 0.05);
  EXPECT_NEAR(ctr->low, 0.0508626712765638 - 0.0095814376578321, kTight);
  EXPECT_NEAR(ctr->high, 0.0508626712765638 + 0.0095814376578321, kTight);
  EXPECT_NEAR(ctr->low, 0.0412812336, 1e-10);
  EXPECT_NEAR(ctr->high, 0.0604441089, 1e-10);
}

TEST(CtrIntervalTest, MatchesNewcombesPublishedExample) {
  // Newcombe (1998), Statistics in Medicine 17:857, example 81/263: Wilson
  // score interval 0.2553 to 0.3662.
  const std::optional<Interval> ctr = CtrInterval({81, 263});
  ASSERT_TRUE(ctr.has_value());
  EXPECT_NEAR(ctr->low, 0.2553, kPublished);
  EXPECT_NEAR(ctr->high, 0.3662, kPublished);
}

TEST(CtrIntervalTest, EdgeCases) {
  // No impressions: undefined.
  EXPECT_FALSE(CtrInterval({0, 0}).has_value());
  // No clicks: p = 0, center = half = (z^2/2n) / (1 + z^2/n), so the
  // interval is [0, z^2/n / (1 + z^2/n)]; for n = 10:
  // 0.38414588 / 1.38414588 = 0.2775328 (Newcombe: 0 to 0.2775).
  std::optional<Interval> ctr = CtrInterval({0, 10});
  ASSERT_TRUE(ctr.has_value());
  EXPECT_EQ(ctr->estimate, 0.0);
  EXPECT_NEAR(ctr->low, 0.0, kTight);
  EXPECT_GE(ctr->low, 0.0);
  EXPECT_NEAR(ctr->high, 0.38414588206941254 / 1.38414588206941254, kTight);
  // All clicks mirrors it: [1 - 0.2775328, 1].
  ctr = CtrInterval({10, 10});
  ASSERT_TRUE(ctr.has_value());
  EXPECT_EQ(ctr->estimate, 1.0);
  EXPECT_NEAR(ctr->low, 1 - 0.38414588206941254 / 1.38414588206941254, kTight);
  EXPECT_NEAR(ctr->high, 1.0, kTight);
  EXPECT_LE(ctr->high, 1.0);
  // Invalid counts.
  EXPECT_FALSE(CtrInterval({11, 10}).has_value());
  EXPECT_FALSE(CtrInterval({-1, 10}).has_value());
  absl::Status s = ValidateClickCounts({11, 10}, "treatment");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(),
            "treatment: 11 clicks out of 10 impressions, expected at most one click per "
            "impression");
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateClickCounts({0, -1}, "x")));
  EXPECT_TRUE(ValidateClickCounts({0, 0}, "x").ok());
}

TEST(CompareCtrTest, DifferenceAndZTestByHandAndPublished) {
  // Newcombe (1998), Statistics in Medicine 17:873, example 56/70 vs 48/80,
  // simple asymptotic (Wald) interval 0.0575 to 0.3425.
  //   d  = 0.8 - 0.6 = 0.2
  //   se = sqrt(0.8*0.2/70 + 0.6*0.4/80) = sqrt(0.0022857 + 0.003) = 0.0727029180
  //   d +- 1.959964 * 0.0727029180 = 0.2 +- 0.1424951009
  // Pooled test: P = 104/150 = 0.6933333,
  //   se0 = sqrt(0.6933333 * 0.3066667 * (1/70 + 1/80)) = 0.0754668013,
  //   z = 0.2 / 0.0754668013 = 2.6501719513,
  //   p = erfc(2.6501719513 / sqrt 2) = 0.0080450814
  //   (the chi-square test without correction: chi2 = z^2 = 7.0234, p = 0.0080).
  const std::optional<CtrComparison> cmp = CompareCtr({48, 80}, {56, 70});
  ASSERT_TRUE(cmp.has_value());
  EXPECT_NEAR(cmp->difference.estimate, 0.2, kTight);
  EXPECT_NEAR(cmp->difference.low, 0.0575, kPublished);
  EXPECT_NEAR(cmp->difference.high, 0.3425, kPublished);
  EXPECT_NEAR(cmp->difference.low, 0.2 - 0.1424951009, 1e-9);
  EXPECT_NEAR(cmp->z, 2.6501719513, 1e-9);
  EXPECT_NEAR(cmp->p_value, 0.0080450814, 1e-9);

  // Swapping the arms negates the difference and keeps the p-value.
  const std::optional<CtrComparison> swapped = CompareCtr({56, 70}, {48, 80});
  ASSERT_TRUE(swapped.has_value());
  EXPECT_NEAR(swapped->difference.estimate, -0.2, kTight);
  EXPECT_NEAR(swapped->difference.low, -0.3424951009, 1e-9);
  EXPECT_NEAR(swapped->z, -2.6501719513, 1e-9);
  EXPECT_NEAR(swapped->p_value, cmp->p_value, kTight);
}

TEST(CompareCtrTest, EdgeCases) {
  // An arm without impressions: undefined.
  EXPECT_FALSE(CompareCtr({0, 0}, {1, 10}).has_value());
  EXPECT_FALSE(CompareCtr({1, 10}, {0, 0}).has_value());
  EXPECT_FALSE(CompareCtr({1, 10}, {11, 10}).has_value());
  // No clicks anywhere: P = 0, no evidence of a difference.
  std::optional<CtrComparison> cmp = CompareCtr({0, 500}, {0, 400});
  ASSERT_TRUE(cmp.has_value());
  EXPECT_EQ(cmp->difference.estimate, 0.0);
  EXPECT_EQ(cmp->difference.low, 0.0);
  EXPECT_EQ(cmp->difference.high, 0.0);
  EXPECT_EQ(cmp->z, 0.0);
  EXPECT_EQ(cmp->p_value, 1.0);
  // All clicks everywhere: P = 1, the same.
  cmp = CompareCtr({500, 500}, {400, 400});
  ASSERT_TRUE(cmp.has_value());
  EXPECT_EQ(cmp->p_value, 1.0);
  // Control without clicks, treatment 3 of 400:
  //   d = 0.0075, se = sqrt(0.0075 * 0.9925 / 400) = 0.0043138585,
  //   d +- 1.959964 * se = [-0.0009550073, 0.0159550073];
  //   P = 3/900, se0 = sqrt(P (1-P) (1/500 + 1/400)) = 0.0038665230,
  //   z = 1.9397272504, p = 0.0524128460.
  cmp = CompareCtr({0, 500}, {3, 400});
  ASSERT_TRUE(cmp.has_value());
  EXPECT_NEAR(cmp->difference.low, -0.0009550073, 1e-9);
  EXPECT_NEAR(cmp->difference.high, 0.0159550073, 1e-9);
  EXPECT_NEAR(cmp->z, 1.9397272504, 1e-9);
  EXPECT_NEAR(cmp->p_value, 0.0524128460, 1e-9);
  // Everything vs nothing: the difference interval stays within [-1, 1].
  cmp = CompareCtr({0, 5}, {5, 5});
  ASSERT_TRUE(cmp.has_value());
  EXPECT_EQ(cmp->difference.estimate, 1.0);
  EXPECT_LE(cmp->difference.high, 1.0);
  EXPECT_LT(cmp->p_value, 0.01);
}

TEST(FormatArmTableTest, PerArmTable) {
  // control 1700/85000 = 2%: Wilson [0.0190803, 0.0209631];
  // treatment 220/9400 = 2.3404%: Wilson [0.0205371, 0.0266608];
  // d = 0.0034043, se = sqrt(0.0234043*0.9765957/9400 + 0.02*0.98/85000)
  //   = 0.0016316, d +- 1.959964 se = [0.0002064, 0.0066021];
  // P = 1920/94400 = 0.0203390, se0 = 0.0015343, z = 2.2187, p = 0.0265.
  // The empty arm has no CTR and no comparison.
  const std::vector<ArmStatsRow> rows = {{"control", 12, 90000, 85000, 1700},
                                         {"treatment", 13, 10000, 9400, 220},
                                         {"v14", 14, 0, 0, 0}};
  absl::StatusOr<std::string> table = FormatArmTable(rows);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(*table,
            "arm        version  requests  impressions  clicks  CTR [95% CI]             "
            "vs control [95% CI]              p\n"
            "control         12     90000        85000    1700  2.000% [1.908%, 2.096%]\n"
            "treatment       13     10000         9400     220  2.340% [2.054%, 2.666%]  "
            "+0.340 pp [+0.021, +0.660]  0.0265\n"
            "v14             14         0            0       0  -                        "
            "-                                -\n")
      << *table;
}

TEST(FormatArmTableTest, TinyPValuesAndBadRows) {
  absl::StatusOr<std::string> table =
      FormatArmTable({{"control", 1, 0, 100000, 1000}, {"big", 2, 0, 100000, 2000}});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE(absl::StrContains(*table, "+1.000 pp")) << *table;
  EXPECT_TRUE(absl::EndsWith(*table, "<0.0001\n")) << *table;

  absl::Status s = FormatArmTable({}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  s = FormatArmTable({{"control", 1, 10, 10, 1}, {"treatment", 2, 10, 5, 6}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "rows[1] \"treatment\": 6 clicks out of 5")) << s;
}

}  // namespace
}  // namespace affinity::server::rollout
