#include "trainer/eval/rating_metrics.h"

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

FactorMatrix Column(std::vector<float> values) {
  FactorMatrix m(values.size(), 1);
  for (size_t i = 0; i < values.size(); ++i) m(i, 0) = values[i];
  return m;
}

// One factor: users (1, 2), items (1, 2, 3), so user 0 predicts 1, 2, 3 and
// user 1 predicts 2, 4, 6. Held out: user 0 rates item 0 as 2 and item 2 as
// 3; user 1 rates item 1 as 1 and item 2 as 4.
// Errors (prediction - rating): -1, 0, 3, 2.
CsrMatrix HandTest() {
  return CsrMatrix(2, 3, {0, 2, 4}, {0, 2, 1, 2}, {2, 3, 1, 4});
}

TEST(EvaluateRatingsTest, HandComputedCase) {
  RatingEvalOptions options;
  options.keep_errors = true;
  const absl::StatusOr<RatingMetrics> m =
      EvaluateRatings(Column({1, 2}), Column({1, 2, 3}), HandTest(), options);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ratings_evaluated, 4);
  // Squared errors 1, 0, 9, 4: MSE 3.5. Absolute errors 1, 0, 3, 2: MAE 1.5.
  EXPECT_NEAR(m->rmse, std::sqrt(3.5), kEps);
  EXPECT_NEAR(m->mae, 1.5, kEps);
  // |e| deviations from 1.5: -0.5, -1.5, 1.5, 0.5 -> sum of squares 5,
  // sample variance 5/3.
  EXPECT_NEAR(m->mae_ci95, kZ * std::sqrt(5.0 / 3) / 2, kEps);
  // e^2 deviations from 3.5: -2.5, -3.5, 5.5, 0.5 -> sum of squares 49,
  // sample variance 49/3; delta method divides by 2 RMSE.
  EXPECT_NEAR(m->rmse_ci95,
              kZ * std::sqrt(49.0 / 3) / 2 / (2 * std::sqrt(3.5)), kEps);
  // Per entry, in the test matrix's entry order.
  EXPECT_THAT(m->squared_errors, ElementsAre(1, 0, 9, 4));
  EXPECT_THAT(m->absolute_errors, ElementsAre(1, 0, 3, 2));
}

TEST(EvaluateRatingsTest, ErrorsAreKeptOnlyWhenAsked) {
  const absl::StatusOr<RatingMetrics> m = EvaluateRatings(
      Column({1, 2}), Column({1, 2, 3}), HandTest(), RatingEvalOptions());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ratings_evaluated, 4);
  EXPECT_TRUE(m->squared_errors.empty());
  EXPECT_TRUE(m->absolute_errors.empty());
}

TEST(EvaluateRatingsTest, PredictionIsTheInnerProductOfBiasedVectors) {
  // Explicit-model layout: user [x_u, 1, mu + b_u], item [y_i, b_i, 1].
  // x = 2, y = 0.5, b_i = 0.25, mu + b_u = 3: prediction 1 + 0.25 + 3.
  FactorMatrix user(1, 3), item(1, 3);
  user << 2, 1, 3;
  item << 0.5f, 0.25f, 1;
  const CsrMatrix test(1, 1, {0, 1}, {0}, {4.0f});
  const absl::StatusOr<RatingMetrics> m =
      EvaluateRatings(user, item, test, RatingEvalOptions());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NEAR(m->rmse, 0.25, kEps);
  EXPECT_NEAR(m->mae, 0.25, kEps);
  EXPECT_EQ(m->rmse_ci95, 0);  // one rating: no interval
}

TEST(EvaluateRatingsTest, BitIdenticalForAnyThreadCount) {
  std::mt19937_64 rng(3);
  const int64_t users = 300, items = 40, dims = 5;
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> rating(1, 5);
  std::bernoulli_distribution present(0.2);
  FactorMatrix u(users, dims), v(items, dims);
  for (int64_t i = 0; i < u.size(); ++i) u.data()[i] = normal(rng);
  for (int64_t i = 0; i < v.size(); ++i) v.data()[i] = normal(rng);
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (int64_t r = 0; r < users; ++r) {
    for (int64_t c = 0; c < items; ++c) {
      if (!present(rng)) continue;
      indices.push_back(c);
      values.push_back(rating(rng));
    }
    indptr.push_back(indices.size());
  }
  const CsrMatrix test(users, items, std::move(indptr), std::move(indices),
                       std::move(values));
  RatingEvalOptions options;
  options.user_block = 7;
  options.keep_errors = true;
  const absl::StatusOr<RatingMetrics> one = EvaluateRatings(u, v, test, options);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->ratings_evaluated, test.nnz());
  EXPECT_GT(one->rmse_ci95, 0);
  for (int threads : {2, 3, 8}) {
    options.threads = threads;
    const absl::StatusOr<RatingMetrics> many =
        EvaluateRatings(u, v, test, options);
    ASSERT_TRUE(many.ok()) << many.status();
    EXPECT_EQ(many->rmse, one->rmse) << threads;
    EXPECT_EQ(many->mae, one->mae) << threads;
    EXPECT_EQ(many->rmse_ci95, one->rmse_ci95) << threads;
    EXPECT_EQ(many->mae_ci95, one->mae_ci95) << threads;
    EXPECT_EQ(many->squared_errors, one->squared_errors) << threads;
  }
}

TEST(EvaluateRatingsTest, NoHeldOutRatingsGivesZeros) {
  const CsrMatrix empty(2, 3, {0, 0, 0}, {}, {});
  const absl::StatusOr<RatingMetrics> m = EvaluateRatings(
      Column({1, 2}), Column({1, 2, 3}), empty, RatingEvalOptions());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ratings_evaluated, 0);
  EXPECT_EQ(m->rmse, 0);
  EXPECT_EQ(m->mae, 0);
}

TEST(EvaluateRatingsTest, RejectsMismatchedShapesAndBadOptions) {
  const CsrMatrix test = HandTest();
  const absl::Status users =
      EvaluateRatings(Column({1}), Column({1, 2, 3}), test, RatingEvalOptions())
          .status();
  EXPECT_EQ(users.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(users.message().find("user factors"), std::string::npos) << users;
  EXPECT_EQ(EvaluateRatings(Column({1, 2}), Column({1, 2}), test,
                            RatingEvalOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  RatingEvalOptions options;
  options.threads = 0;
  const absl::Status threads =
      EvaluateRatings(Column({1, 2}), Column({1, 2, 3}), test, options).status();
  EXPECT_EQ(threads.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(threads.message().find("threads"), std::string::npos) << threads;
}

TEST(RatingMetricsTest, ToMapNamesEveryFieldWithPrefix) {
  RatingMetrics m;
  m.rmse = 0.9;
  m.mae = 0.7;
  m.rmse_ci95 = 0.01;
  m.mae_ci95 = 0.02;
  m.ratings_evaluated = 2000;
  const std::map<std::string, double> expected = {
      {"model.rmse", 0.9},        {"model.mae", 0.7},
      {"model.rmse_ci95", 0.01},  {"model.mae_ci95", 0.02},
      {"model.ratings_evaluated", 2000}};
  EXPECT_EQ(m.ToMap("model."), expected);
  EXPECT_EQ(m.ToMap().count("rmse"), 1);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
