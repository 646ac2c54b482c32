#include "trainer/als/implicit_als.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/als/planted_data.h"
#include "trainer/als/als_trainer.h"
#include "trainer/als/factor_init.h"
#include "trainer/als/gramian.h"
#include "trainer/als/implicit_update.h"

namespace affinity {
namespace {

using testing_data::MakePlantedImplicit;
using testing_data::RandomImplicit;
using ::testing::HasSubstr;

std::unique_ptr<AlsTrainer> MakeTrainer(const AlsOptions& options,
                                        const CsrMatrix& data) {
  absl::StatusOr<std::unique_ptr<AlsTrainer>> trainer =
      CreateAlsTrainer(options);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_TRUE((*trainer)->Init(data).ok());
  return *std::move(trainer);
}

// The objective evaluated the slow way, over every (u, i) pair.
double BruteForceObjective(const CsrMatrix& m, const FactorMatrix& x,
                           const FactorMatrix& y, double alpha, double reg) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Ones(m.rows(), m.cols());
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(m.rows(), m.cols());
  for (int64_t u = 0; u < m.rows(); ++u) {
    const CsrMatrix::Row row = m.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      c(u, row.indices[k]) = 1 + alpha * row.values[k];
      p(u, row.indices[k]) = 1;
    }
  }
  const Eigen::MatrixXd s = x.cast<double>() * y.cast<double>().transpose();
  return (c.array() * (p - s).array().square()).sum() +
         reg * (x.cast<double>().squaredNorm() +
                y.cast<double>().squaredNorm());
}

TEST(ImplicitObjectiveTest, MatchesBruteForce) {
  const CsrMatrix m = RandomImplicit(40, 25, 0.2, 1);
  std::mt19937_64 rng(2);
  FactorMatrix x(40, 10), y(25, 10);
  FillNormal(0.5f, &rng, &x);
  FillNormal(0.5f, &rng, &y);
  const float alpha = 2.0f, reg = 0.3f;
  const double fast = ImplicitObjective(m, x, y, Gramian(y, reg, 2), alpha,
                                        reg, 2);
  const double slow = BruteForceObjective(m, x, y, alpha, reg);
  EXPECT_NEAR(fast, slow, 1e-5 * slow);
}

// Gradient of the full objective with respect to every user vector,
// evaluated densely: 2 sum_i c_ui (x_u . y_i - p_ui) y_i + 2 reg x_u.
Eigen::MatrixXd BruteForceUserGradient(const CsrMatrix& m,
                                       const FactorMatrix& x,
                                       const FactorMatrix& y, double alpha,
                                       double reg) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Ones(m.rows(), m.cols());
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(m.rows(), m.cols());
  for (int64_t u = 0; u < m.rows(); ++u) {
    const CsrMatrix::Row row = m.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      c(u, row.indices[k]) = 1 + alpha * row.values[k];
      p(u, row.indices[k]) = 1;
    }
  }
  const Eigen::MatrixXd yd = y.cast<double>();
  const Eigen::MatrixXd residual =
      (c.array() * ((x.cast<double>() * yd.transpose()) - p).array())
          .matrix();
  return 2 * residual * yd + 2 * reg * x.cast<double>();
}

TEST(ImplicitCholeskyTest, ZeroesTheGradientOfEveryRow) {
  const CsrMatrix m = RandomImplicit(50, 30, 0.2, 3);
  std::mt19937_64 rng(4);
  FactorMatrix x(50, 6), y(30, 6);
  FillNormal(0.4f, &rng, &x);
  FillNormal(0.4f, &rng, &y);
  const float alpha = 2.0f, reg = 0.2f;
  const double before =
      BruteForceUserGradient(m, x, y, alpha, reg).rowwise().norm().maxCoeff();
  EXPECT_EQ(UpdateImplicitCholesky(m, y, Gramian(y, reg, 1), alpha, 2, &x), 0);
  const double after =
      BruteForceUserGradient(m, x, y, alpha, reg).rowwise().norm().maxCoeff();
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, 1e-4 * before);
}

class SolverAgreementTest : public ::testing::TestWithParam<int> {};

// With as many CG steps as unknowns, CG solves each row's system exactly, so
// it must land where the Cholesky solve lands.
TEST_P(SolverAgreementTest, ConvergedCgMatchesCholesky) {
  const int f = GetParam();
  const CsrMatrix m = RandomImplicit(80, 50, 0.15, 5);
  std::mt19937_64 rng(6);
  FactorMatrix start(80, f), items(50, f);
  FillNormal(0.3f, &rng, &start);
  FillNormal(0.3f, &rng, &items);
  const Eigen::MatrixXf gram = Gramian(items, 0.1f, 1);
  FactorMatrix cg = start, exact = start;
  UpdateImplicitCg(m, items, gram, 1.5f, 4 * f, 2, &cg);
  EXPECT_EQ(UpdateImplicitCholesky(m, items, gram, 1.5f, 2, &exact), 0);
  EXPECT_LT((cg - exact).norm(), 1e-3 * exact.norm());
  EXPECT_GT((exact - start).norm(), 0.1 * exact.norm());
}

// F = 16 runs the fixed-size kernels, F = 10 the dynamic-size ones.
INSTANTIATE_TEST_SUITE_P(FixedAndDynamicSizes, SolverAgreementTest,
                         ::testing::Values(10, 16));

TEST(ImplicitAlsTest, CgWithDefaultStepsReachesCholeskyObjective) {
  const CsrMatrix m = RandomImplicit(200, 120, 0.05, 7);
  AlsOptions options;
  options.factors = 16;
  options.regularization = 0.1f;
  options.iterations = 15;
  options.threads = 2;
  auto cg = MakeTrainer(options, m);
  options.solver = AlsSolver::kCholesky;
  auto exact = MakeTrainer(options, m);
  const auto cg_stats = cg->Train();
  const auto exact_stats = exact->Train();
  ASSERT_TRUE(cg_stats.ok() && exact_stats.ok());
  const double cg_loss = cg_stats->back().loss;
  const double exact_loss = exact_stats->back().loss;
  // Cholesky is the exact alternating minimiser; 3 warm-started CG steps per
  // half-iteration end within 2% of it.
  EXPECT_NEAR(cg_loss, exact_loss, 0.02 * exact_loss);
}

TEST(ImplicitAlsTest, LossNeverIncreases) {
  const CsrMatrix m = RandomImplicit(150, 90, 0.08, 8);
  for (AlsSolver solver : {AlsSolver::kConjugateGradient,
                           AlsSolver::kCholesky}) {
    AlsOptions options;
    options.factors = 16;
    options.iterations = 10;
    options.solver = solver;
    options.alpha = 3.0f;
    auto trainer = MakeTrainer(options, m);
    const auto stats = trainer->Train();
    ASSERT_TRUE(stats.ok());
    ASSERT_EQ(stats->size(), 10u);
    for (size_t k = 1; k < stats->size(); ++k) {
      EXPECT_LE((*stats)[k].loss, (*stats)[k - 1].loss * (1 + 1e-5))
          << AlsSolverName(solver) << " iteration " << k + 1;
    }
    EXPECT_LT(stats->back().loss, 0.9 * stats->front().loss);
    // The reported loss is the documented normalised objective.
    double weights = 0;
    for (float w : m.values()) weights += w;
    const double normaliser = 150.0 * 90.0 + 3.0 * weights;
    EXPECT_NEAR(stats->back().loss * normaliser,
                BruteForceObjective(m, trainer->user_factors(),
                                    trainer->item_factors(), 3.0, 0.01),
                1e-4 * stats->back().loss * normaliser);
  }
}

TEST(ImplicitAlsTest, DeterministicForSeedAndThreadCount) {
  const CsrMatrix m = RandomImplicit(300, 200, 0.05, 9);
  for (AlsSolver solver : {AlsSolver::kConjugateGradient,
                           AlsSolver::kCholesky}) {
    AlsOptions options;
    options.factors = 16;
    options.iterations = 3;
    options.solver = solver;
    options.threads = 2;
    auto a = MakeTrainer(options, m);
    auto b = MakeTrainer(options, m);
    ASSERT_TRUE(a->Train().ok());
    ASSERT_TRUE(b->Train().ok());
    EXPECT_EQ(a->user_factors(), b->user_factors());
    EXPECT_EQ(a->item_factors(), b->item_factors());

    // Per-row work is independent and reductions use fixed blocks, so other
    // thread counts give the very same bits.
    for (int threads : {1, 3}) {
      options.threads = threads;
      auto c = MakeTrainer(options, m);
      ASSERT_TRUE(c->Train().ok());
      EXPECT_EQ(c->user_factors(), a->user_factors()) << threads;
      EXPECT_EQ(c->item_factors(), a->item_factors()) << threads;
    }

    options.threads = 2;
    options.seed = 1234;
    auto d = MakeTrainer(options, m);
    ASSERT_TRUE(d->Train().ok());
    EXPECT_NE(d->user_factors(), a->user_factors());
  }
}

// Fraction of users whose held-out item ranks within the top `k` of the
// items they have not interacted with.
double HitRate(const testing_data::PlantedImplicit& data,
               const FoldedFactors& model, int k) {
  int hits = 0;
  const int64_t users = data.train.rows();
  for (int64_t u = 0; u < users; ++u) {
    const Eigen::VectorXf scores = model.items * model.users.row(u).transpose();
    const CsrMatrix::Row row = data.train.row(u);
    const float target = scores(data.held_out[u]);
    int better = 0;
    for (int64_t i = 0; i < scores.size(); ++i) {
      const bool seen = std::binary_search(row.indices.begin(),
                                           row.indices.end(),
                                           static_cast<uint32_t>(i));
      if (!seen && scores(i) > target) ++better;
    }
    if (better < k) ++hits;
  }
  return static_cast<double>(hits) / users;
}

TEST(ImplicitAlsTest, RanksHeldOutItemsOfPlantedClusters) {
  // 8 clusters of 40 items; each user saw 12 items of its cluster. A model
  // that recovers the clusters puts the 28 unseen in-cluster items (and so
  // the held-out one) in the top 28 of 308 candidates; chance is ~9%.
  const auto data = MakePlantedImplicit(800, 320, 8, 12, 10);
  for (AlsSolver solver : {AlsSolver::kConjugateGradient,
                           AlsSolver::kCholesky}) {
    AlsOptions options;
    options.factors = 16;
    options.iterations = 10;
    options.solver = solver;
    options.threads = 2;
    auto trainer = MakeTrainer(options, data.train);
    ASSERT_TRUE(trainer->Train().ok());
    EXPECT_GT(HitRate(data, trainer->Folded(), 28), 0.95)
        << AlsSolverName(solver);
  }
}

TEST(ImplicitAlsTest, FoldedFactorsAreTheFactors) {
  const CsrMatrix m = RandomImplicit(20, 10, 0.3, 11);
  AlsOptions options;
  options.factors = 4;
  auto trainer = MakeTrainer(options, m);
  ASSERT_TRUE(trainer->RunIteration().ok());
  const FoldedFactors folded = trainer->Folded();
  EXPECT_EQ(folded.users, trainer->user_factors());
  EXPECT_EQ(folded.items, trainer->item_factors());
}

TEST(ImplicitAlsTest, RejectsBadInputAndMisuse) {
  AlsOptions options;
  options.factors = 4;
  ImplicitAls trainer(options);
  EXPECT_EQ(trainer.RunIteration().status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::vector<uint32_t> rows = {0, 1}, cols = {1, 0};
  const std::vector<float> negative = {1.0f, -2.0f};
  const auto m = CsrMatrix::FromTriplets(2, 2, rows, cols, negative);
  ASSERT_TRUE(m.ok());
  const absl::Status status = trainer.Init(*m);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("user_items(1, 0)"));
  EXPECT_EQ(trainer.Init(CsrMatrix()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ImplicitAlsTest, EmptyRowsAndMoreThreadsThanRows) {
  const std::vector<uint32_t> rows = {0, 0, 2}, cols = {0, 2, 1};
  const std::vector<float> w = {1.0f, 3.0f, 2.0f};
  const auto m = CsrMatrix::FromTriplets(4, 3, rows, cols, w);
  ASSERT_TRUE(m.ok());
  AlsOptions options;
  options.factors = 3;
  options.threads = 8;
  options.iterations = 5;
  auto trainer = MakeTrainer(options, *m);
  const auto stats = trainer->Train();
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(std::isfinite(stats->back().loss));
  EXPECT_TRUE(trainer->user_factors().allFinite());
  // A user without interactions is pushed towards predicting 0 everywhere.
  EXPECT_LT((trainer->item_factors() * trainer->user_factors().row(1).transpose())
                .cwiseAbs()
                .maxCoeff(),
            0.05f);
}

TEST(ImplicitAlsTest, CgStaysFiniteWithoutRegularization) {
  // More factors than items: Y^T Y is singular and reg 0 adds nothing.
  const CsrMatrix m = RandomImplicit(30, 3, 0.6, 12);
  AlsOptions options;
  options.factors = 8;
  options.regularization = 0;
  options.iterations = 5;
  auto trainer = MakeTrainer(options, m);
  const auto stats = trainer->Train();
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(trainer->user_factors().allFinite());
  EXPECT_TRUE(trainer->item_factors().allFinite());
  EXPECT_TRUE(std::isfinite(stats->back().loss));
}

}  // namespace
}  // namespace affinity
