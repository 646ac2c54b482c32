#include "trainer/eval/metrics_table.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace eval {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RankingMetrics Ranking(double precision, double ci, int64_t users, int k = 10) {
  RankingMetrics m;
  m.k = k;
  m.users_evaluated = users;
  m.precision = precision;
  m.precision_ci95 = ci;
  m.recall = precision / 2;
  m.recall_ci95 = ci / 2;
  m.ndcg = precision + 0.1;
  m.ndcg_ci95 = ci;
  m.map = precision / 4;
  m.map_ci95 = ci / 4;
  m.coverage = 0.25;
  return m;
}

TEST(FormatMetricsTableTest, ColumnsSideBySideWithRatingRows) {
  const RankingMetrics candidate = Ranking(0.35, 0.008, 943);
  const RankingMetrics live = Ranking(0.3, 0.0082, 943);
  const RankingMetrics popular = Ranking(0.1884, 0.0075, 943);
  RatingMetrics candidate_ratings;
  candidate_ratings.rmse = 0.9123;
  candidate_ratings.rmse_ci95 = 0.0101;
  candidate_ratings.mae = 0.7171;
  candidate_ratings.mae_ci95 = 0.0075;
  candidate_ratings.ratings_evaluated = 20000;
  const std::vector<MetricsColumn> columns = {
      {"candidate", &candidate, &candidate_ratings},
      {"live", &live, nullptr},
      {"most-popular", &popular, nullptr},
  };
  // Cells are 14 characters wide ("0.3500 ±0.0080", "±" one character),
  // labels 15 ("users evaluated"); columns two spaces apart.
  const std::string expected =
      "metric           candidate       live            most-popular\n"
      "precision@10     0.3500 ±0.0080  0.3000 ±0.0082  0.1884 ±0.0075\n"
      "recall@10        0.1750 ±0.0040  0.1500 ±0.0041  0.0942 ±0.0037\n"
      "ndcg@10          0.4500 ±0.0080  0.4000 ±0.0082  0.2884 ±0.0075\n"
      "map@10           0.0875 ±0.0020  0.0750 ±0.0021  0.0471 ±0.0019\n"
      "coverage@10      0.2500          0.2500          0.2500\n"
      "rmse             0.9123 ±0.0101  -               -\n"
      "mae              0.7171 ±0.0075  -               -\n"
      "users evaluated  943             943             943\n"
      "ratings          20000           -               -\n";
  EXPECT_EQ(FormatMetricsTable(columns), expected);
}

TEST(FormatMetricsTableTest, NoRatingRowsWithoutRatingMetrics) {
  const RankingMetrics model = Ranking(0.5, 0.01, 12);
  const std::string table =
      FormatMetricsTable({MetricsColumn{"PureSVD", &model, nullptr}});
  EXPECT_EQ(table,
            "metric           PureSVD\n"
            "precision@10     0.5000 ±0.0100\n"
            "recall@10        0.2500 ±0.0050\n"
            "ndcg@10          0.6000 ±0.0100\n"
            "map@10           0.1250 ±0.0025\n"
            "coverage@10      0.2500\n"
            "users evaluated  12\n");
}

TEST(FormatMetricsTableTest, DifferentKIsNamedAndMissingRankingIsADash) {
  const RankingMetrics at10 = Ranking(0.5, 0.01, 12);
  const RankingMetrics at20 = Ranking(0.25, 0.01, 12, 20);
  RatingMetrics ratings;
  ratings.rmse = 1;
  ratings.ratings_evaluated = 3;
  const std::string table = FormatMetricsTable({
      MetricsColumn{"a", &at10, nullptr},
      MetricsColumn{"b", &at20, nullptr},
      MetricsColumn{"ratings-only", nullptr, &ratings},
  });
  EXPECT_THAT(table, HasSubstr("b (k=20)"));
  EXPECT_THAT(table, Not(HasSubstr("a (k=10)")));
  EXPECT_THAT(table, HasSubstr("metric           a               b (k=20)"));
  EXPECT_THAT(table,
              HasSubstr("precision@10     0.5000 ±0.0100  0.2500 ±0.0100  -\n"));
  EXPECT_THAT(table,
              HasSubstr("rmse             -               -               "
                        "1.0000 ±0.0000\n"));
}

}  // namespace
}  // namespace eval
}  // namespace affinity
