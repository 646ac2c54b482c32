#include "trainer/eval/pure_svd.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "gtest/gtest.h"
#include "trainer/eval/factor_model_eval.h"

namespace affinity {
namespace eval {
namespace {

// A rows x cols matrix with each entry present with probability `density`
// and a value uniform in [0.5, 5] (ratings-like, used as they are).
CsrMatrix RandomSparse(int64_t rows, int64_t cols, double density,
                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution present(density);
  std::uniform_real_distribution<float> value(0.5f, 5.0f);
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (!present(rng)) continue;
      indices.push_back(static_cast<uint32_t>(c));
      values.push_back(value(rng));
    }
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  return CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                   std::move(values));
}

Eigen::MatrixXd Dense(const CsrMatrix& m) {
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(m.rows(), m.cols());
  for (int64_t r = 0; r < m.rows(); ++r) {
    const CsrMatrix::Row row = m.row(r);
    for (size_t e = 0; e < row.size(); ++e) {
      d(r, row.indices[e]) = row.values[e];
    }
  }
  return d;
}

// Checks a fit against Eigen's dense divide-and-conquer SVD of the same
// matrix: singular values, the projector V V^T (independent of the signs
// and of the basis Armadillo picked) and the PureSVD scores R V V^T.
void ExpectMatchesDenseSvd(const CsrMatrix& train, const PureSvdFactors& fit) {
  const Eigen::MatrixXd r = Dense(train);
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
  // float storage of V: about 1e-7 per entry.
  EXPECT_LT((projector - expected_projector).cwiseAbs().maxCoeff(), 1e-6);

  const Eigen::MatrixXd expected_scores = r * expected_projector;
  const Eigen::MatrixXd scores =
      fit.users.cast<double>() * fit.items.cast<double>().transpose();
  const double scale = expected_scores.cwiseAbs().maxCoeff();
  EXPECT_LT((scores - expected_scores).cwiseAbs().maxCoeff(), 1e-6 * scale);
}

TEST(FitPureSvdTest, ScoresEqualDenseSvdProjection) {
  const CsrMatrix train = RandomSparse(40, 25, 0.3, 1);
  PureSvdOptions options;
  options.factors = 6;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->factors, 6);
  EXPECT_GE(fit->seconds, 0);
  ExpectMatchesDenseSvd(train, *fit);
}

TEST(FitPureSvdTest, WideMatrixScoresEqualDenseSvdProjection) {
  const CsrMatrix train = RandomSparse(15, 60, 0.2, 2);
  PureSvdOptions options;
  options.factors = 4;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->factors, 4);
  ExpectMatchesDenseSvd(train, *fit);
}

TEST(FitPureSvdTest, FactorsAreCappedBelowTheSmallerDimension) {
  // 12 x 7: at most 6 factors, whatever was asked for.
  const CsrMatrix train = RandomSparse(12, 7, 0.5, 3);
  PureSvdOptions options;
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

TEST(FitPureSvdTest, SameInputSameFactors) {
  const CsrMatrix train = RandomSparse(30, 20, 0.3, 4);
  PureSvdOptions options;
  options.factors = 5;
  const absl::StatusOr<PureSvdFactors> a = FitPureSvd(train, options);
  const absl::StatusOr<PureSvdFactors> b = FitPureSvd(train, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->users, b->users);
  EXPECT_EQ(a->items, b->items);
}

TEST(FitPureSvdTest, EvaluatesAsTheFactorModelOfItsScores) {
  // EvaluateFactorModel on the fit at k = 1 hits exactly when the best
  // item outside the user's training row by the dense scores R V V^T is
  // held out.
  const CsrMatrix train = RandomSparse(60, 30, 0.3, 5);
  const CsrMatrix test = RandomSparse(60, 30, 0.15, 6);
  PureSvdOptions options;
  options.factors = 4;
  const absl::StatusOr<PureSvdFactors> fit = FitPureSvd(train, options);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EvalOptions eval;
  eval.k = 1;
  const absl::StatusOr<RankingMetrics> metrics =
      EvaluateFactorModel(fit->users, fit->items, train, test, eval);
  ASSERT_TRUE(metrics.ok()) << metrics.status();

  const Eigen::MatrixXd r = Dense(train);
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(r, Eigen::ComputeThinV);
  const Eigen::MatrixXd v = svd.matrixV().leftCols(4);
  const Eigen::MatrixXd scores = r * v * v.transpose();
  const Eigen::MatrixXd held_out = Dense(test);
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

TEST(FitPureSvdTest, RejectsBadInput) {
  PureSvdOptions options;
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

  const CsrMatrix nan(2, 2, {0, 1, 2}, {0, 1},
                      {1.0f, std::numeric_limits<float>::quiet_NaN()});
  const absl::Status bad = FitPureSvd(nan, options).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("entry 1"), std::string::npos) << bad;
}

}  // namespace
}  // namespace eval
}  // namespace affinity
