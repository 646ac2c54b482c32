#include "trainer/eval/popularity_eval.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"
#include "trainer/eval/factor_model_eval.h"

namespace affinity {
namespace eval {
namespace {

using ::testing::ElementsAre;
using testing::MatrixFromRows;
using testing::RandomRows;

constexpr double kEps = 1e-12;

// Training users per item: item 0: 1 (user 3), item 1: 3 (users 0, 1, 2),
// item 2: 3 (users 0, 2, 3), item 3: 0, item 4: 2 (users 1, 2).
CsrMatrix Train() {
  return MatrixFromRows(5, {{1, 2}, {1, 4}, {1, 2, 4}, {0, 2}, {}});
}

TEST(PopularityOrderTest, MostTrainingUsersFirstTiesToLowerIndex) {
  // Items 1 and 2 tie at 3 users: 1 first.
  EXPECT_THAT(PopularityOrder(Train()), ElementsAre(1, 2, 4, 0, 3));
}

TEST(PopularityOrderTest, CountsUsersNotWeights) {
  // Item 1 has one user with a large weight, item 0 two users with small
  // weights: item 0 is more popular.
  const CsrMatrix train(2, 2, {0, 2, 3}, {0, 1, 0}, {0.1f, 50.0f, 0.1f});
  EXPECT_THAT(PopularityOrder(train), ElementsAre(0, 1));
}

TEST(EvaluatePopularityTest, HandComputedSmallCase) {
  // k = 2; global order [1, 2, 4, 0, 3].
  // User 0: train {1, 2} -> list [4, 0]; held out {4}: hit at rank 1.
  //   precision 1/2, recall 1, ndcg 1, AP 1.
  // User 1: train {1, 4} -> list [2, 0]; held out {0, 3}: hit at rank 2.
  //   precision 1/2, recall 1/2, ndcg = (1/log2(3)) / (1 + 1/log2(3)),
  //   AP = (1/2) / min(2, 2) = 1/4.
  // User 2: nothing held out, skipped.
  // User 3: train {0, 2} -> list [1, 4]; held out {3}: no hit.
  // User 4: nothing held out, skipped.
  const CsrMatrix test = MatrixFromRows(5, {{4}, {0, 3}, {}, {3}, {}});
  EvalOptions options;
  options.k = 2;
  const absl::StatusOr<RankingMetrics> m =
      EvaluatePopularity(Train(), test, options);
  ASSERT_TRUE(m.ok()) << m.status();
  const double d2 = 1 / std::log2(3.0);
  EXPECT_EQ(m->users_evaluated, 3);
  EXPECT_NEAR(m->precision, (0.5 + 0.5 + 0) / 3, kEps);
  EXPECT_NEAR(m->recall, (1 + 0.5 + 0) / 3, kEps);
  EXPECT_NEAR(m->ndcg, (1 + d2 / (1 + d2) + 0) / 3, kEps);
  EXPECT_NEAR(m->map, (1 + 0.25 + 0) / 3, kEps);
  // Lists cover {4, 0} + {2, 0} + {1, 4} = 4 of 5 items.
  EXPECT_NEAR(m->coverage, 4.0 / 5, kEps);
}

TEST(EvaluatePopularityTest, EqualsFactorModelScoringByPopularity) {
  // A one-factor model whose item factor is (training users - index / n)
  // ranks exactly like the baseline (count first, then lower index), so the
  // two evaluations must agree on random data.
  std::mt19937_64 rng(17);
  const int64_t users = 250, items = 90;
  std::vector<std::vector<uint32_t>> train_rows =
      RandomRows(users, items, 0.1, rng);
  const CsrMatrix train = MatrixFromRows(items, train_rows);
  const CsrMatrix test = MatrixFromRows(items, RandomRows(users, items, 0.05, rng));
  std::vector<int> count(items, 0);
  for (uint32_t item : train.indices()) ++count[item];
  FactorMatrix user_factors = FactorMatrix::Ones(users, 1);
  FactorMatrix item_factors(items, 1);
  for (int64_t i = 0; i < items; ++i) {
    item_factors(i, 0) = static_cast<float>(count[i]) -
                         static_cast<float>(i) / static_cast<float>(items);
  }
  for (int threads : {1, 2}) {
    EvalOptions options;
    options.k = 7;
    options.threads = threads;
    options.user_block = 16;
    const absl::StatusOr<RankingMetrics> baseline =
        EvaluatePopularity(train, test, options);
    const absl::StatusOr<RankingMetrics> model = EvaluateFactorModel(
        user_factors, item_factors, train, test, options);
    ASSERT_TRUE(baseline.ok()) << baseline.status();
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_GT(baseline->users_evaluated, 200);
    EXPECT_EQ(baseline->users_evaluated, model->users_evaluated);
    EXPECT_EQ(baseline->precision, model->precision);
    EXPECT_EQ(baseline->recall, model->recall);
    EXPECT_EQ(baseline->ndcg, model->ndcg);
    EXPECT_EQ(baseline->map, model->map);
    EXPECT_EQ(baseline->coverage, model->coverage);
  }
}

TEST(EvaluatePopularityTest, SameUsersInTheSameOrderAsAFactorModel) {
  // A sampled evaluation of two different recommenders with the same
  // matrices and options pairs user for user.
  std::mt19937_64 rng(23);
  const int64_t users = 400, items = 60;
  const CsrMatrix train = MatrixFromRows(items, RandomRows(users, items, 0.1, rng));
  const CsrMatrix test = MatrixFromRows(items, RandomRows(users, items, 0.03, rng));
  std::normal_distribution<float> normal(0, 1);
  FactorMatrix user_factors(users, 4), item_factors(items, 4);
  for (int64_t i = 0; i < user_factors.size(); ++i) {
    user_factors.data()[i] = normal(rng);
  }
  for (int64_t i = 0; i < item_factors.size(); ++i) {
    item_factors.data()[i] = normal(rng);
  }
  EvalOptions options;
  options.k = 5;
  options.max_users = 150;
  options.seed = 4;
  options.threads = 2;
  options.user_block = 16;
  options.keep_per_user = true;
  const absl::StatusOr<RankingMetrics> baseline =
      EvaluatePopularity(train, test, options);
  const absl::StatusOr<RankingMetrics> model = EvaluateFactorModel(
      user_factors, item_factors, train, test, options);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(baseline->users.size(), 150u);
  EXPECT_EQ(baseline->users, model->users);
  EXPECT_TRUE(std::is_sorted(baseline->users.begin(), baseline->users.end()));
  ASSERT_EQ(baseline->per_user.size(), 150u);
  // The per-user values average to the reported means.
  double ndcg = 0;
  for (const UserRankingMetrics& u : baseline->per_user) ndcg += u.ndcg;
  EXPECT_NEAR(ndcg / 150, baseline->ndcg, kEps);
}

TEST(EvaluatePopularityTest, RejectsMismatchedShapes) {
  const CsrMatrix test = MatrixFromRows(4, {{0}});
  EXPECT_EQ(EvaluatePopularity(Train(), test, EvalOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
