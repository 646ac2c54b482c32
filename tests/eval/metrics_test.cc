#include "trainer/eval/metrics.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/eval/metrics_proto.h"

namespace affinity {
namespace eval {
namespace {

constexpr double kEps = 1e-12;

TEST(ScoreUserRankingTest, ThreeHeldOutHitsAtRanksOneAndThree) {
  // k = 5, held out {10, 11, 12}; the list hits at ranks 1 and 3.
  const std::vector<uint32_t> ranked = {10, 20, 11, 21, 22};
  const std::vector<uint32_t> held_out = {10, 11, 12};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 5);
  EXPECT_EQ(m.hits, 2);
  // precision = 2 / 5; recall = 2 / 3.
  EXPECT_NEAR(m.precision, 2.0 / 5, kEps);
  EXPECT_NEAR(m.recall, 2.0 / 3, kEps);
  // DCG = 1/log2(2) + 1/log2(4) = 1 + 1/2;
  // IDCG over min(5, 3) = 3 items = 1 + 1/log2(3) + 1/log2(4).
  EXPECT_NEAR(m.ndcg, (1 + 0.5) / (1 + 1 / std::log2(3.0) + 0.5), kEps);
  // AP = (1/1 + 2/3) / min(5, 3) = 5/9.
  EXPECT_NEAR(m.average_precision, 5.0 / 9, kEps);
}

TEST(ScoreUserRankingTest, MoreHeldOutThanKNormalizesByK) {
  // k = 2, six items held out, one hit at rank 2.
  const std::vector<uint32_t> ranked = {7, 3};
  const std::vector<uint32_t> held_out = {1, 2, 3, 4, 5, 6};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 2);
  EXPECT_EQ(m.hits, 1);
  // precision = 1 / 2; recall = 1 / 6 (all held-out items, not min(k, 6)).
  EXPECT_NEAR(m.precision, 0.5, kEps);
  EXPECT_NEAR(m.recall, 1.0 / 6, kEps);
  // DCG = 1/log2(3); IDCG over min(2, 6) = 2 items = 1 + 1/log2(3).
  const double d2 = 1 / std::log2(3.0);
  EXPECT_NEAR(m.ndcg, d2 / (1 + d2), kEps);
  // AP = (1/2) / min(2, 6) = 1/4.
  EXPECT_NEAR(m.average_precision, 0.25, kEps);
}

TEST(ScoreUserRankingTest, NoHitsScoresZero) {
  const std::vector<uint32_t> ranked = {0, 1, 2};
  const std::vector<uint32_t> held_out = {5};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 3);
  EXPECT_EQ(m.hits, 0);
  EXPECT_EQ(m.precision, 0);
  EXPECT_EQ(m.recall, 0);
  EXPECT_EQ(m.ndcg, 0);
  EXPECT_EQ(m.average_precision, 0);
}

TEST(ScoreUserRankingTest, ShortListStillDividesPrecisionByK) {
  // Only one candidate was left after exclusions; it is the held-out item.
  const std::vector<uint32_t> ranked = {4};
  const std::vector<uint32_t> held_out = {4};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 3);
  // precision = 1 / 3; recall = 1 / 1; DCG = IDCG = 1; AP = (1/1) / 1.
  EXPECT_NEAR(m.precision, 1.0 / 3, kEps);
  EXPECT_NEAR(m.recall, 1.0, kEps);
  EXPECT_NEAR(m.ndcg, 1.0, kEps);
  EXPECT_NEAR(m.average_precision, 1.0, kEps);
}

TEST(ScoreUserRankingTest, PerfectListScoresOneWhateverTheOrderOfHits) {
  const std::vector<uint32_t> ranked = {9, 2, 5};
  const std::vector<uint32_t> held_out = {2, 5, 9};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 3);
  EXPECT_NEAR(m.precision, 1.0, kEps);
  EXPECT_NEAR(m.recall, 1.0, kEps);
  EXPECT_NEAR(m.ndcg, 1.0, kEps);
  // AP = (1/1 + 2/2 + 3/3) / 3 = 1.
  EXPECT_NEAR(m.average_precision, 1.0, kEps);
}

TEST(ScoreUserRankingTest, OnlyTheFirstKEntriesCount) {
  // A list longer than k is cut at k: the hit at rank 3 is ignored for k = 2.
  const std::vector<uint32_t> ranked = {0, 1, 2};
  const std::vector<uint32_t> held_out = {2};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 2);
  EXPECT_EQ(m.hits, 0);
  EXPECT_EQ(m.ndcg, 0);
}

TEST(ScoreUserRankingTest, HitAtRankTwoOfOneHeldOut) {
  // k = 10, held out {8}, hit at rank 2:
  // ndcg = (1/log2(3)) / 1; AP = (1/2) / min(10, 1) = 1/2; recall = 1.
  const std::vector<uint32_t> ranked = {1, 8, 3};
  const std::vector<uint32_t> held_out = {8};
  const UserRankingMetrics m = ScoreUserRanking(ranked, held_out, 10);
  EXPECT_NEAR(m.precision, 0.1, kEps);
  EXPECT_NEAR(m.recall, 1.0, kEps);
  EXPECT_NEAR(m.ndcg, 1 / std::log2(3.0), kEps);
  EXPECT_NEAR(m.average_precision, 0.5, kEps);
}

TEST(RankingMetricsSumTest, AveragesUsersAndComputesCoverage) {
  RankingMetricsSum sum;
  UserRankingMetrics a;
  a.precision = 0.2;
  a.recall = 1.0;
  a.ndcg = 0.5;
  a.average_precision = 0.25;
  UserRankingMetrics b;
  b.precision = 0.4;
  b.recall = 0.0;
  b.ndcg = 0.25;
  b.average_precision = 0.75;
  sum.Add(a);
  sum.Add(b);
  const RankingMetrics m = sum.Finish(/*k=*/5, /*covered_items=*/3,
                                      /*num_items=*/12);
  EXPECT_EQ(m.k, 5);
  EXPECT_EQ(m.users_evaluated, 2);
  EXPECT_NEAR(m.precision, 0.3, kEps);
  EXPECT_NEAR(m.recall, 0.5, kEps);
  EXPECT_NEAR(m.ndcg, 0.375, kEps);
  EXPECT_NEAR(m.map, 0.5, kEps);
  EXPECT_NEAR(m.coverage, 0.25, kEps);
  // Two users: sample sd of {x, y} is |x - y| / sqrt(2), so the half-width
  // is z * |x - y| / sqrt(2) / sqrt(2) = z * |x - y| / 2.
  const double z = 1.959963984540054;
  EXPECT_NEAR(m.precision_ci95, z * 0.2 / 2, kEps);
  EXPECT_NEAR(m.recall_ci95, z * 1.0 / 2, kEps);
  EXPECT_NEAR(m.ndcg_ci95, z * 0.25 / 2, kEps);
  EXPECT_NEAR(m.map_ci95, z * 0.5 / 2, kEps);
  // Finish leaves the per-user vectors to the evaluation loop.
  EXPECT_TRUE(m.users.empty());
  EXPECT_TRUE(m.per_user.empty());
}

TEST(RankingMetricsSumTest, OneUserHasNoInterval) {
  RankingMetricsSum sum;
  UserRankingMetrics a;
  a.precision = 0.2;
  a.ndcg = 0.5;
  sum.Add(a);
  const RankingMetrics m = sum.Finish(5, 1, 10);
  EXPECT_NEAR(m.precision, 0.2, kEps);
  EXPECT_EQ(m.precision_ci95, 0);
  EXPECT_EQ(m.ndcg_ci95, 0);
}

TEST(RankingMetricsSumTest, NoUsersGivesZeroRates) {
  const RankingMetrics m = RankingMetricsSum().Finish(10, 0, 0);
  EXPECT_EQ(m.users_evaluated, 0);
  EXPECT_EQ(m.precision, 0);
  EXPECT_EQ(m.map, 0);
  EXPECT_EQ(m.coverage, 0);
}

RankingMetrics SampleMetrics() {
  RankingMetrics m;
  m.k = 10;
  m.users_evaluated = 42;
  m.precision = 0.1;
  m.recall = 0.2;
  m.ndcg = 0.3;
  m.map = 0.4;
  m.coverage = 0.5;
  m.precision_ci95 = 0.01;
  m.recall_ci95 = 0.02;
  m.ndcg_ci95 = 0.03;
  m.map_ci95 = 0.04;
  return m;
}

TEST(RankingMetricsTest, ToMapNamesMetricsWithKAndPrefix) {
  const std::map<std::string, double> plain = SampleMetrics().ToMap();
  const std::map<std::string, double> expected = {
      {"precision_at_10", 0.1}, {"recall_at_10", 0.2},
      {"ndcg_at_10", 0.3},      {"map_at_10", 0.4},
      {"coverage_at_10", 0.5},  {"users_evaluated", 42},
      {"precision_at_10_ci95", 0.01}, {"recall_at_10_ci95", 0.02},
      {"ndcg_at_10_ci95", 0.03},      {"map_at_10_ci95", 0.04}};
  EXPECT_EQ(plain, expected);

  const std::map<std::string, double> prefixed =
      SampleMetrics().ToMap("popularity.");
  EXPECT_EQ(prefixed.size(), expected.size());
  EXPECT_EQ(prefixed.at("popularity.ndcg_at_10"), 0.3);
  EXPECT_EQ(prefixed.at("popularity.users_evaluated"), 42);
  EXPECT_EQ(prefixed.at("popularity.ndcg_at_10_ci95"), 0.03);
}

TEST(RankingMetricsTest, ProtoCarriesEveryField) {
  const v1::RankingMetrics proto = ToRankingMetricsProto(SampleMetrics());
  EXPECT_EQ(proto.precision_at_k(), 0.1);
  EXPECT_EQ(proto.recall_at_k(), 0.2);
  EXPECT_EQ(proto.ndcg_at_k(), 0.3);
  EXPECT_EQ(proto.map_at_k(), 0.4);
  EXPECT_EQ(proto.coverage_at_k(), 0.5);
  EXPECT_EQ(proto.users_evaluated(), 42);
  EXPECT_EQ(proto.precision_at_k_ci95(), 0.01);
  EXPECT_EQ(proto.recall_at_k_ci95(), 0.02);
  EXPECT_EQ(proto.ndcg_at_k_ci95(), 0.03);
  EXPECT_EQ(proto.map_at_k_ci95(), 0.04);
}

TEST(RatingMetricsTest, ProtoCarriesEveryField) {
  RatingMetrics m;
  m.rmse = 0.9;
  m.mae = 0.7;
  m.rmse_ci95 = 0.01;
  m.mae_ci95 = 0.02;
  m.ratings_evaluated = 2000;
  m.squared_errors = {0.81};
  const v1::RatingMetrics proto = ToRatingMetricsProto(m);
  EXPECT_EQ(proto.rmse(), 0.9);
  EXPECT_EQ(proto.mae(), 0.7);
  EXPECT_EQ(proto.rmse_ci95(), 0.01);
  EXPECT_EQ(proto.mae_ci95(), 0.02);
  EXPECT_EQ(proto.ratings_evaluated(), 2000);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
