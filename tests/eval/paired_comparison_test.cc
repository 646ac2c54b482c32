#include "trainer/eval/paired_comparison.h"

#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace eval {
namespace {

using ::testing::ElementsAre;

constexpr double kEps = 1e-12;
constexpr double kZ = 1.959963984540054;

TEST(ComparePairedTest, HandComputedCase) {
  // d = a - b = {0.2, 0, 0.3, -0.1}: mean 0.1; deviations 0.1, -0.1, 0.2,
  // -0.2 -> sum of squares 0.1, sample sd sqrt(0.1 / 3) = sqrt(1/30);
  // standard error sqrt(1/30) / 2; t = 0.1 / se = sqrt(1.2);
  // p = erfc(t / sqrt(2)) = 0.273321678292298.
  const std::vector<double> a = {0.5, 0.2, 0.9, 0.4};
  const std::vector<double> b = {0.3, 0.2, 0.6, 0.5};
  const absl::StatusOr<PairedComparison> c = ComparePaired(a, b);
  ASSERT_TRUE(c.ok()) << c.status();
  const double se = std::sqrt(1.0 / 30) / 2;
  EXPECT_EQ(c->n, 4);
  EXPECT_NEAR(c->mean_a, 0.5, kEps);
  EXPECT_NEAR(c->mean_b, 0.4, kEps);
  EXPECT_NEAR(c->mean_difference, 0.1, kEps);
  EXPECT_NEAR(c->ci95, kZ * se, kEps);
  EXPECT_NEAR(c->p_value, 0.273321678292298, 1e-12);
}

TEST(ComparePairedTest, SignificantExactlyWhenTheIntervalExcludesZero) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  for (double shift : {0.0, 0.05, 0.1, 0.2, 0.4}) {
    std::vector<double> a(200), b(200);
    for (size_t i = 0; i < a.size(); ++i) {
      b[i] = noise(rng);
      a[i] = b[i] + shift + noise(rng);
    }
    const absl::StatusOr<PairedComparison> c = ComparePaired(a, b);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->p_value < 0.05, std::abs(c->mean_difference) > c->ci95)
        << "shift " << shift << " p " << c->p_value;
  }
}

TEST(ComparePairedTest, DegenerateCases) {
  const absl::StatusOr<PairedComparison> empty = ComparePaired({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->n, 0);
  EXPECT_EQ(empty->p_value, 1);

  const absl::StatusOr<PairedComparison> one = ComparePaired({0.7}, {0.2});
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(one->mean_difference, 0.5, kEps);
  EXPECT_EQ(one->ci95, 0);
  EXPECT_EQ(one->p_value, 1);

  // Every difference 0.25: no spread, a certain difference.
  const absl::StatusOr<PairedComparison> constant =
      ComparePaired({1.25, 2.25, 3.25}, {1, 2, 3});
  ASSERT_TRUE(constant.ok());
  EXPECT_EQ(constant->ci95, 0);
  EXPECT_EQ(constant->p_value, 0);

  const absl::StatusOr<PairedComparison> same =
      ComparePaired({1, 2, 3}, {1, 2, 3});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->mean_difference, 0);
  EXPECT_EQ(same->p_value, 1);
}

TEST(ComparePairedTest, RejectsUnequalLengths) {
  const absl::Status s = ComparePaired({1, 2}, {1}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("2 and 1"), std::string::npos) << s;
}

TEST(DirectionOfTest, RankingMetricsHigherRatingErrorsLower) {
  for (const char* name :
       {"precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"}) {
    EXPECT_EQ(DirectionOf(name).value(), MetricDirection::kHigherIsBetter)
        << name;
  }
  EXPECT_EQ(DirectionOf("rmse").value(), MetricDirection::kLowerIsBetter);
  EXPECT_EQ(DirectionOf("mae").value(), MetricDirection::kLowerIsBetter);
  EXPECT_EQ(DirectionOf("ndcg").status().code(),
            absl::StatusCode::kInvalidArgument);
}

RankingMetrics WithUsers(std::vector<int64_t> users,
                         std::vector<double> ndcg) {
  RankingMetrics m;
  m.users_evaluated = static_cast<int64_t>(users.size());
  m.users = std::move(users);
  for (double v : ndcg) {
    UserRankingMetrics u;
    u.ndcg = v;
    u.precision = v / 2;
    u.recall = v / 4;
    u.average_precision = v / 8;
    m.per_user.push_back(u);
  }
  return m;
}

TEST(PerUserValuesTest, PicksTheNamedMetric) {
  const RankingMetrics m = WithUsers({1, 4}, {0.8, 0.4});
  EXPECT_THAT(PerUserValues(m, "ndcg_at_k").value(), ElementsAre(0.8, 0.4));
  EXPECT_THAT(PerUserValues(m, "precision_at_k").value(),
              ElementsAre(0.4, 0.2));
  EXPECT_THAT(PerUserValues(m, "recall_at_k").value(), ElementsAre(0.2, 0.1));
  EXPECT_THAT(PerUserValues(m, "map_at_k").value(), ElementsAre(0.1, 0.05));
  EXPECT_EQ(PerUserValues(m, "rmse").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PerUserValuesTest, ResultWithoutPerUserValuesIsAnError) {
  RankingMetrics m;
  m.users_evaluated = 10;
  const absl::Status s = PerUserValues(m, "ndcg_at_k").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("keep_per_user"), std::string::npos) << s;
}

TEST(CompareRankingsTest, PairsUsersAndChecksTheyAreTheSame) {
  // ndcg differences 0.2, 0, 0.3, -0.1 as in the hand-computed case.
  const RankingMetrics candidate = WithUsers({0, 2, 3, 7}, {0.5, 0.2, 0.9, 0.4});
  const RankingMetrics live = WithUsers({0, 2, 3, 7}, {0.3, 0.2, 0.6, 0.5});
  const absl::StatusOr<PairedComparison> c =
      CompareRankings(candidate, live, "ndcg_at_k");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NEAR(c->mean_difference, 0.1, kEps);
  EXPECT_NEAR(c->p_value, 0.273321678292298, 1e-12);

  const RankingMetrics other = WithUsers({0, 2, 3, 8}, {0.3, 0.2, 0.6, 0.5});
  EXPECT_EQ(CompareRankings(candidate, other, "ndcg_at_k").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CompareRatingsTest, RmseComparesSquaredErrorsMaeAbsoluteErrors) {
  RatingMetrics a, b;
  a.ratings_evaluated = b.ratings_evaluated = 3;
  a.squared_errors = {1, 4, 0.25};
  a.absolute_errors = {1, 2, 0.5};
  b.squared_errors = {4, 4, 1};
  b.absolute_errors = {2, 2, 1};
  // Squared: differences -3, 0, -0.75, mean -1.25.
  const absl::StatusOr<PairedComparison> rmse = CompareRatings(a, b, "rmse");
  ASSERT_TRUE(rmse.ok()) << rmse.status();
  EXPECT_NEAR(rmse->mean_difference, -1.25, kEps);
  // Absolute: differences -1, 0, -0.5, mean -0.5.
  const absl::StatusOr<PairedComparison> mae = CompareRatings(a, b, "mae");
  ASSERT_TRUE(mae.ok()) << mae.status();
  EXPECT_NEAR(mae->mean_difference, -0.5, kEps);

  EXPECT_EQ(CompareRatings(a, b, "ndcg_at_k").status().code(),
            absl::StatusCode::kInvalidArgument);
  RatingMetrics no_errors;
  no_errors.ratings_evaluated = 3;
  EXPECT_EQ(CompareRatings(a, no_errors, "rmse").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
