#include "trainer/eval/pure_svd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"
#include "trainer/eval/factor_model_eval.h"

namespace affinity {
namespace eval {
namespace {

using testing::DenseOf;
using testing::PlantedLowRank;
using testing::RandomSparse;

// Checks a fit against Eigen's dense divide-and-conquer SVD of the same
// matrix: singular values, the projector V V^T (independent of the signs
// and of the basis the solver picked) and the PureSVD scores R V V^T.
void ExpectMatchesDenseSvd(const CsrMatrix& train, const PureSvdFactors& fit) {
  const Eigen::MatrixXd r = DenseOf(train);
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(r, Eigen::ComputeThinV);
  const int f = fit.factors;
  ASSERT_GE(f, 1);
  ASSERT_EQ(fit.users.rows(), train.rows());
  ASSERT_EQ(fit.users.cols(), f);
  ASSERT_EQ(fit.items.rows(), train.cols());
  ASSERT_EQ(fit.items.cols(), f);
  ASSERT_EQ(static_cast<int>(fit.singular_values.size()), f);
  const Eigen::VectorXd& sigma = svd.singularValues();
  // The top-f subspace is well defined only with a gap after sigma_f.
  if (f < sigma.size()) {
    ASSERT_GT(sigma[f - 1] - sigma[f], 1e-3 * sigma[0]);
  }
  for (int c = 0; c < f; ++c) {
    EXPECT_NEAR(fit.singular_values[c], sigma[c], 1e-9 * sigma[0]) << c;
  }

  const Eigen::MatrixXd v = svd.matrixV().leftCols(f);
  const Eigen::MatrixXd expected_projector = v * v.transpose();
  const Eigen::MatrixXd items = fit.items.cast<double>();
  const Eigen::MatrixXd projector = items * items.transpose();
  // float storage of V (and the randomized solver's single-precision power
  // iterations): about 1e-7 per entry.
  EXPECT_LT((projector - expected_projector).cwiseAbs().maxCoeff(), 1e-6);

  const Eigen::MatrixXd expected_scores = r * expected_projector;
  const Eigen::MatrixXd scores =
      fit.users.cast<double>() * fit.items.cast<double>().transpose();
  const double scale = expected_scores.cwiseAbs().maxCoeff();
  EXPECT_LT((scores - expected_scores).cwiseAbs().maxCoeff(), 1e-6 * scale);
}

// Every test below runs with both solvers.
class FitPureSvdTest : public ::testing::TestWithParam<PureSvdSolver> {
 protected:
  PureSvdOptions Options() const {
    PureSvdOptions options;
    options.solver = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(
    Solvers, FitPureSvdTest,
    ::testing::Values(PureSvdSolver::kRandomized, PureSvdSolver::kSvds),
    [](const ::testing::TestParamInfo<PureSvdSolver>& info) {
      return std::string(PureSvdSolverName(info.param));
    });

TEST_P(FitPureSvdTest, ScoresEqualDenseSvdProjection) {
  const CsrMatrix train = RandomSparse(40, 25, 0.3, 1);
  PureSvdOptions options = Options();
  options.factors = 6;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->factors, 6);
  EXPECT_EQ(fit->solver, GetParam());
  EXPECT_GE(fit->seconds, 0);
  ExpectMatchesDenseSvd(train, *fit);
}

TEST_P(FitPureSvdTest, WideMatrixScoresEqualDenseSvdProjection) {
  const CsrMatrix train = RandomSparse(15, 60, 0.2, 2);
  PureSvdOptions options = Options();
  options.factors = 4;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->factors, 4);
  ExpectMatchesDenseSvd(train, *fit);
}

TEST_P(FitPureSvdTest, PlantedStructureBeyondTheRandomizedBlock) {
  // 200 items and a randomized block of 16 columns: the randomized solver
  // has to find the subspace by power iterations, not by covering every
  // item.
  const CsrMatrix train = PlantedLowRank(300, 200, 4, 0.8, 11);
  PureSvdOptions options = Options();
  options.factors = 4;
  options.oversampling = 8;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  ExpectMatchesDenseSvd(train, *fit);
}

TEST_P(FitPureSvdTest, FactorsAreCappedBelowTheSmallerDimension) {
  // 12 x 7: at most 6 factors, whatever was asked for.
  const CsrMatrix train = RandomSparse(12, 7, 0.5, 3);
  PureSvdOptions options = Options();
  options.factors = 64;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->factors, 6);
  ExpectMatchesDenseSvd(train, *fit);

  // Exactly min(rows, cols) is capped too.
  options.factors = 7;
  const absl::StatusOr<PureSvdFactors> seven = FitPureSvd(train, options);
  ASSERT_TRUE(seven.ok()) << seven.status();
  EXPECT_EQ(seven->factors, 6);
}

TEST_P(FitPureSvdTest, SameInputSameFactors) {
  const CsrMatrix train = RandomSparse(30, 20, 0.3, 4);
  PureSvdOptions options = Options();
  options.factors = 5;
  const absl::StatusOr<PureSvdFactors> a = FitPureSvd(train, options);
  const absl::StatusOr<PureSvdFactors> b = FitPureSvd(train, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->users, b->users);
  EXPECT_EQ(a->items, b->items);
}

TEST_P(FitPureSvdTest, EvaluatesAsTheFactorModelOfItsScores) {
  // EvaluateFactorModel on the fit at k = 1 hits exactly when the best
  // item outside the user's training row by the dense scores R V V^T is
  // held out.
  const CsrMatrix train = RandomSparse(60, 30, 0.3, 5);
  const CsrMatrix test = RandomSparse(60, 30, 0.15, 6);
  PureSvdOptions options = Options();
  options.factors = 4;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EvalOptions eval;
  eval.k = 1;
  const absl::StatusOr<RankingMetrics> metrics =
      EvaluateFactorModel(fit->users, fit->items, train, test, eval);
  ASSERT_TRUE(metrics.ok()) << metrics.status();

  const Eigen::MatrixXd r = DenseOf(train);
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(r, Eigen::ComputeThinV);
  const Eigen::MatrixXd v = svd.matrixV().leftCols(4);
  const Eigen::MatrixXd scores = r * v * v.transpose();
  const Eigen::MatrixXd held_out = DenseOf(test);
  int users = 0, hits = 0;
  for (int64_t u = 0; u < train.rows(); ++u) {
    if (test.row(u).size() == 0) continue;
    ++users;
    int64_t best = -1;
    for (int64_t i = 0; i < train.cols(); ++i) {
      if (r(u, i) != 0) continue;
      if (best < 0 || scores(u, i) > scores(u, best)) best = i;
    }
    if (best >= 0 && held_out(u, best) != 0) ++hits;
  }
  ASSERT_GT(users, 40);
  EXPECT_EQ(metrics->users_evaluated, users);
  EXPECT_NEAR(metrics->precision, static_cast<double>(hits) / users, 1e-12);
}

TEST_P(FitPureSvdTest, RejectsBadInput) {
  PureSvdOptions options = Options();
  options.factors = 0;
  EXPECT_EQ(FitPureSvd(RandomSparse(5, 5, 0.5, 7), options).status().code(),
            absl::StatusCode::kInvalidArgument);

  options.factors = 2;
  // One row: no f < min(rows, cols) exists.
  const absl::Status one_row = FitPureSvd(RandomSparse(1, 5, 1.0, 8), options).status();
  EXPECT_EQ(one_row.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(one_row.message().find("1 x 5"), std::string::npos) << one_row;

  const CsrMatrix empty(4, 4, {0, 0, 0, 0, 0}, {}, {});
  EXPECT_EQ(FitPureSvd(empty, options).status().code(),
            absl::StatusCode::kInvalidArgument);

  options = Options();
  options.oversampling = -1;
  const absl::Status oversampling =
      FitPureSvd(RandomSparse(5, 5, 0.5, 7), options).status();
  EXPECT_EQ(oversampling.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(oversampling.message().find("oversampling"), std::string::npos);
  options = Options();
  options.power_iterations = -2;
  EXPECT_EQ(FitPureSvd(RandomSparse(5, 5, 0.5, 7), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.threads = -1;
  EXPECT_EQ(FitPureSvd(RandomSparse(5, 5, 0.5, 7), options).status().code(),
            absl::StatusCode::kInvalidArgument);

  options = Options();
  const CsrMatrix nan(2, 2, {0, 1, 2}, {0, 1},
                      {1.0f, std::numeric_limits<float>::quiet_NaN()});
  const absl::Status bad = FitPureSvd(nan, options).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("entry 1"), std::string::npos) << bad;
}

// The ten best unseen items of every user by users.row(u) . items.row(i).
std::vector<std::vector<int>> TopTen(const CsrMatrix& train,
                                     const PureSvdFactors& fit) {
  const Eigen::MatrixXd scores =
      fit.users.cast<double>() * fit.items.cast<double>().transpose();
  const Eigen::MatrixXd seen = DenseOf(train);
  std::vector<std::vector<int>> out(train.rows());
  for (int64_t u = 0; u < train.rows(); ++u) {
    std::vector<int> items;
    for (int i = 0; i < train.cols(); ++i) {
      if (seen(u, i) == 0) items.push_back(i);
    }
    std::partial_sort(items.begin(), items.begin() + 10, items.end(),
                      [&](int a, int b) { return scores(u, a) > scores(u, b); });
    items.resize(10);
    std::sort(items.begin(), items.end());
    out[u] = items;
  }
  return out;
}

TEST(PureSvdSolversTest, DefaultsRankTheSameTopItemsAsSvds) {
  // 150 items, f = 6: the default randomized block (l = 80) covers about
  // half of the item space.
  const CsrMatrix train = PlantedLowRank(400, 150, 6, 0.3, 12);
  const absl::StatusOr<PureSvdFactors> randomized =
      FitPureSvd(train, PureSvdOptions{.factors = 6});
  PureSvdOptions svds_options;
  svds_options.factors = 6;
  svds_options.solver = PureSvdSolver::kSvds;
  const absl::StatusOr<PureSvdFactors> svds = FitPureSvd(train, svds_options);
  ASSERT_TRUE(randomized.ok()) << randomized.status();
  ASSERT_TRUE(svds.ok()) << svds.status();
  EXPECT_EQ(randomized->solver, PureSvdSolver::kRandomized);
  EXPECT_EQ(TopTen(train, *randomized), TopTen(train, *svds));
}

TEST(PureSvdSolversTest, Names) {
  EXPECT_STREQ(PureSvdSolverName(PureSvdSolver::kRandomized), "randomized");
  EXPECT_STREQ(PureSvdSolverName(PureSvdSolver::kSvds), "svds");
}

}  // namespace
}  // namespace eval
}  // namespace affinity
