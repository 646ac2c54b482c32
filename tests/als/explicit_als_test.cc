#include "trainer/als/explicit_als.h"

#include <cmath>
#include <algorithm>
#include <memory>
#include <random>

#include "gtest/gtest.h"
#include "tests/als/planted_data.h"
#include "trainer/als/als_trainer.h"
#include "trainer/als/explicit_update.h"
#include "trainer/als/factor_init.h"

namespace affinity {
namespace {

using testing_data::MakePlantedRatings;

AlsOptions ExplicitOptions() {
  AlsOptions options;
  options.solver = AlsSolver::kExplicit;
  options.factors = 8;
  options.regularization = 0.01f;
  options.iterations = 20;
  options.threads = 2;
  return options;
}

double Rmse(const CsrMatrix& ratings, const ExplicitAls& model) {
  double sse = 0;
  for (int64_t u = 0; u < ratings.rows(); ++u) {
    const CsrMatrix::Row row = ratings.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      const uint32_t i = row.indices[k];
      const double pred =
          model.global_mean() + model.user_bias()(u) + model.item_bias()(i) +
          model.user_factors().row(u).dot(model.item_factors().row(i));
      sse += (row.values[k] - pred) * (row.values[k] - pred);
    }
  }
  return std::sqrt(sse / ratings.nnz());
}

TEST(ExplicitUpdateTest, ZeroesTheGradientOfEveryRow) {
  const auto data = MakePlantedRatings(40, 30, 2, 0.4, 0.0, 24);
  const CsrMatrix& m = data.train;
  std::mt19937_64 rng(5);
  FactorMatrix x(40, 5), y(30, 5);
  FillNormal(0.5f, &rng, &x);
  FillNormal(0.5f, &rng, &y);
  FactorVector bu = FactorVector::Zero(40), bi(30);
  for (int i = 0; i < 30; ++i) bi(i) = 0.1f * (i % 7) - 0.3f;
  const float mu = 3.0f, reg = 0.5f;
  // d/d[x_u, b_u] of sum_i (r - mu - b_u - b_i - x_u . y_i)^2
  //   + reg (|x_u|^2 + b_u^2), largest norm over users.
  auto max_gradient = [&]() {
    double worst = 0;
    for (int64_t u = 0; u < m.rows(); ++u) {
      Eigen::VectorXd gx = 2.0 * reg * x.row(u).transpose().cast<double>();
      double gb = 2.0 * reg * bu(u);
      const CsrMatrix::Row row = m.row(u);
      for (size_t k = 0; k < row.size(); ++k) {
        const uint32_t i = row.indices[k];
        const double e = row.values[k] - mu - bu(u) - bi(i) -
                         x.row(u).cast<double>().dot(y.row(i).cast<double>());
        gx -= 2.0 * e * y.row(i).transpose().cast<double>();
        gb -= 2.0 * e;
      }
      worst = std::max(worst, std::sqrt(gx.squaredNorm() + gb * gb));
    }
    return worst;
  };
  const double before = max_gradient();
  UpdateExplicit(m, y, bi, mu, reg, 2, &x, &bu);
  const double after = max_gradient();
  EXPECT_GT(before, 1.0);
  EXPECT_LT(after, 1e-4 * before);
}

TEST(ExplicitUpdateTest, RowsWhoseSolveFailsKeepTheirValuesAndAreCounted) {
  // Items y = [1, 0], [0, 1], [1, 1]. A user who rated only item 0 has
  // the normal matrix [[1,0,1],[0,0,0],[1,0,1]] + reg I, singular once reg
  // (1e-30) is lost against 1 in float: its factorization fails. A user who
  // rated all three has a positive definite system.
  FactorMatrix y(3, 2);
  y << 1, 0, 0, 1, 1, 1;
  const FactorVector item_bias = FactorVector::Zero(3);
  const std::vector<uint32_t> rows = {0, 1, 1, 1}, cols = {0, 0, 1, 2};
  const std::vector<float> r = {4.0f, 3.0f, 1.0f, 5.0f};
  const auto m = CsrMatrix::FromTriplets(3, 3, rows, cols, r);  // user 2: no ratings
  ASSERT_TRUE(m.ok());
  FactorMatrix x(3, 2);
  x << 7, 8, 7, 8, 7, 8;
  FactorVector bias(3);
  bias << 9, 9, 9;

  const int64_t failed = UpdateExplicit(*m, y, item_bias, 0.0f, 1e-30f, 2, &x, &bias);
  EXPECT_EQ(failed, 1);
  // User 0 kept its previous values.
  EXPECT_EQ(x(0, 0), 7.0f);
  EXPECT_EQ(x(0, 1), 8.0f);
  EXPECT_EQ(bias(0), 9.0f);
  // User 1 was solved: its prediction error sums to zero over its ratings
  // (the bias equation), and the vector changed.
  double residual = 0;
  for (int i = 0; i < 3; ++i) {
    residual += r[1 + i] - (bias(1) + x.row(1).dot(y.row(i)));
  }
  EXPECT_NEAR(residual, 0.0, 1e-3);
  EXPECT_NE(x(1, 0), 7.0f);
  // User 2 has no ratings: zero, not a failure.
  EXPECT_EQ(x.row(2).norm(), 0.0f);
  EXPECT_EQ(bias(2), 0.0f);
}

TEST(ExplicitAlsTest, IterationsReportFailedSolves) {
  // Users with one rating each and a regularization float cannot see:
  // their 2 x 2 systems [[y^2, y], [y, 1]] are singular.
  std::vector<uint32_t> rows, cols;
  std::vector<float> r;
  for (uint32_t u = 0; u < 200; ++u) {
    rows.push_back(u);
    cols.push_back(u % 7);
    r.push_back(1.0f + static_cast<float>(u % 5));
  }
  const auto m = CsrMatrix::FromTriplets(200, 7, rows, cols, r);
  ASSERT_TRUE(m.ok());
  AlsOptions options = ExplicitOptions();
  options.factors = 1;
  options.regularization = 1e-30f;
  options.iterations = 2;
  ExplicitAls model(options);
  ASSERT_TRUE(model.Init(*m).ok());
  absl::StatusOr<IterationStats> step = model.RunIteration();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_GT(step->failed_solves, 0);
  EXPECT_LE(step->failed_solves, 207);

  // A well-posed problem has none.
  const auto data = MakePlantedRatings(50, 40, 3, 0.3, 0.1, 3);
  ExplicitAls healthy(ExplicitOptions());
  ASSERT_TRUE(healthy.Init(data.train).ok());
  step = healthy.RunIteration();
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->failed_solves, 0);
}

TEST(ExplicitAlsTest, RecoversPlantedLowRankRatings) {
  // Rank-3 ratings with biases, 40% observed; ratings spread ~1.9 around 3.
  const auto data = MakePlantedRatings(300, 200, 3, 0.4, 0.1, 21);
  ExplicitAls model(ExplicitOptions());
  ASSERT_TRUE(model.Init(data.train).ok());
  const auto stats = model.Train();
  ASSERT_TRUE(stats.ok());
  EXPECT_NEAR(model.global_mean(), 3.0, 0.3);
  EXPECT_LT(stats->back().loss, 0.05);
  // The reported loss is the training RMSE.
  EXPECT_NEAR(stats->back().loss, Rmse(data.train, model), 1e-4);
  // Held-out entries of the planted matrix are predicted too.
  EXPECT_LT(Rmse(data.test, model), 0.15);
  // RMSE falls from the first to the last iteration and stays down.
  EXPECT_LT(stats->back().loss, 0.2 * stats->front().loss);
  for (size_t k = 1; k < stats->size(); ++k) {
    EXPECT_LE((*stats)[k].loss, (*stats)[k - 1].loss * 1.01 + 1e-4) << k;
  }
}

TEST(ExplicitAlsTest, FoldedVectorsReproduceTheScore) {
  const auto data = MakePlantedRatings(60, 40, 2, 0.5, 0.0, 22);
  ExplicitAls model(ExplicitOptions());
  ASSERT_TRUE(model.Init(data.train).ok());
  ASSERT_TRUE(model.RunIteration().ok());
  ASSERT_TRUE(model.RunIteration().ok());
  const FoldedFactors folded = model.Folded();
  const int f = ExplicitOptions().factors;
  ASSERT_EQ(folded.users.cols(), f + 2);
  ASSERT_EQ(folded.items.cols(), f + 2);
  double max_abs = 0;
  for (int64_t u = 0; u < 60; ++u) {
    for (int64_t i = 0; i < 40; ++i) {
      const double direct =
          static_cast<double>(model.global_mean()) + model.user_bias()(u) +
          model.item_bias()(i) +
          model.user_factors().row(u).cast<double>().dot(
              model.item_factors().row(i).cast<double>());
      const double via_fold = folded.users.row(u).cast<double>().dot(
          folded.items.row(i).cast<double>());
      max_abs = std::max(max_abs, std::abs(direct - via_fold));
    }
  }
  // Only the float rounding of mu + b_u separates the two.
  EXPECT_LT(max_abs, 1e-5);
  EXPECT_NE(model.user_bias().norm(), 0.0f);
}

TEST(ExplicitAlsTest, DeterministicAcrossThreadCounts) {
  const auto data = MakePlantedRatings(120, 90, 3, 0.3, 0.0, 23);
  AlsOptions options = ExplicitOptions();
  options.iterations = 3;
  options.threads = 1;
  ExplicitAls one(options);
  options.threads = 3;
  ExplicitAls three(options);
  ASSERT_TRUE(one.Init(data.train).ok());
  ASSERT_TRUE(three.Init(data.train).ok());
  ASSERT_TRUE(one.Train().ok());
  ASSERT_TRUE(three.Train().ok());
  EXPECT_EQ(one.user_factors(), three.user_factors());
  EXPECT_EQ(one.item_factors(), three.item_factors());
  EXPECT_EQ(one.user_bias(), three.user_bias());
  EXPECT_EQ(one.item_bias(), three.item_bias());
}

TEST(ExplicitAlsTest, ItemsWithoutRatingsGetZeroVectors) {
  const std::vector<uint32_t> rows = {0, 1, 1}, cols = {0, 0, 2};
  const std::vector<float> r = {4.0f, 2.0f, 5.0f};
  const auto m = CsrMatrix::FromTriplets(2, 4, rows, cols, r);
  ASSERT_TRUE(m.ok());
  AlsOptions options = ExplicitOptions();
  options.factors = 3;
  ExplicitAls model(options);
  ASSERT_TRUE(model.Init(*m).ok());
  ASSERT_TRUE(model.Train().ok());
  for (int i : {1, 3}) {
    EXPECT_EQ(model.item_factors().row(i).norm(), 0.0f);
    EXPECT_EQ(model.item_bias()(i), 0.0f);
  }
}

TEST(ExplicitAlsTest, RejectsEmptyAndNonFiniteRatings) {
  ExplicitAls model(ExplicitOptions());
  EXPECT_EQ(model.RunIteration().status().code(),
            absl::StatusCode::kFailedPrecondition);
  const auto empty = CsrMatrix::FromTriplets(3, 3, {}, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(model.Init(*empty).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<uint32_t> rows = {0}, cols = {1};
  const std::vector<float> nan = {NAN};
  const auto bad = CsrMatrix::FromTriplets(1, 2, rows, cols, nan);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(model.Init(*bad).code(), absl::StatusCode::kInvalidArgument);
  // Negative ratings are fine for the explicit model.
  const std::vector<float> negative = {-1.0f};
  const auto ok = CsrMatrix::FromTriplets(1, 2, rows, cols, negative);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(model.Init(*ok).ok());
}

}  // namespace
}  // namespace affinity
