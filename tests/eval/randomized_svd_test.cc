#include "trainer/eval/randomized_svd.h"

#include <Eigen/Dense>

#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"

namespace affinity {
namespace eval {
namespace {

using testing::DenseOf;
using testing::PlantedLowRank;
using testing::RandomSparse;

// Largest entry of V V^T - V_ref V_ref^T over the top `rank` right singular
// vectors of the dense copy of r: 0 when the subspaces agree.
double ProjectorError(const CsrMatrix& r, const RightSingularPairs& fit) {
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(DenseOf(r), Eigen::ComputeThinV);
  const int rank = static_cast<int>(fit.values.size());
  const Eigen::MatrixXd v = svd.matrixV().leftCols(rank);
  const Eigen::MatrixXd fitted = fit.vectors;
  return (fitted * fitted.transpose() - v * v.transpose()).cwiseAbs().maxCoeff();
}

void ExpectSingularValues(const CsrMatrix& r, const RightSingularPairs& fit,
                          double relative) {
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(DenseOf(r));
  const Eigen::VectorXd& sigma = svd.singularValues();
  for (size_t c = 0; c < fit.values.size(); ++c) {
    EXPECT_NEAR(fit.values[c], sigma[c], relative * sigma[0]) << c;
  }
}

TEST(RandomizedSvdTest, ConvergesToTheDenseSvdBeyondTheBlock) {
  // 200 items, a block of 16: the basis covers a small part of the item
  // space, and power iterations pull it onto the planted directions.
  const CsrMatrix r = PlantedLowRank(300, 200, 4, 0.8, 1);
  RandomizedSvdOptions options;
  options.rank = 4;
  options.oversampling = 8;
  options.power_iterations = 5;
  options.threads = 2;
  const RightSingularPairs fit = RandomizedRightSingular(r, options);
  EXPECT_EQ(fit.block_columns, 16);
  EXPECT_EQ(fit.householder_fallbacks, 0);
  ASSERT_EQ(fit.vectors.rows(), 200);
  ASSERT_EQ(fit.vectors.cols(), 4);
  const Eigen::MatrixXd gram = fit.vectors.transpose() * fit.vectors;
  EXPECT_LT((gram - Eigen::MatrixXd::Identity(4, 4)).cwiseAbs().maxCoeff(),
            1e-12);
  // Ritz values are accurate to the square of the subspace error, which
  // the single-precision power iterations hold near 1e-7.
  ExpectSingularValues(r, fit, 1e-10);
  EXPECT_LT(ProjectorError(r, fit), 1e-6);
}

TEST(RandomizedSvdTest, PowerIterationsReduceTheErrorOnAFlatSpectrum) {
  // Uniform ratings: after sigma_1 the spectrum is flat, the hard case.
  const CsrMatrix r = RandomSparse(400, 300, 0.1, 2);
  RandomizedSvdOptions options;
  options.rank = 8;
  options.oversampling = 8;
  options.power_iterations = 0;
  const double none = ProjectorError(r, RandomizedRightSingular(r, options));
  options.power_iterations = 3;
  const double some = ProjectorError(r, RandomizedRightSingular(r, options));
  options.power_iterations = 30;
  const double many = ProjectorError(r, RandomizedRightSingular(r, options));
  EXPECT_GT(none, 0.1);
  EXPECT_LT(some, none);
  EXPECT_LT(many, some);
  EXPECT_LT(many, 1e-2);
}

TEST(RandomizedSvdTest, ExactWhenTheBlockCoversEveryItem) {
  // 30 items, rank 10 + oversampling 64: l is capped at 30, so the basis is
  // the whole item space and no power iteration is needed.
  const CsrMatrix r = RandomSparse(80, 30, 0.3, 3);
  RandomizedSvdOptions options;
  options.rank = 10;
  options.power_iterations = 0;
  const RightSingularPairs fit = RandomizedRightSingular(r, options);
  EXPECT_EQ(fit.block_columns, 30);
  ExpectSingularValues(r, fit, 1e-12);
  EXPECT_LT(ProjectorError(r, fit), 1e-9);
}

TEST(RandomizedSvdTest, SeedAndThreadsChangeOnlyRounding) {
  const CsrMatrix r = PlantedLowRank(3000, 120, 5, 0.8, 4);
  RandomizedSvdOptions options;
  options.rank = 5;
  options.oversampling = 11;
  options.threads = 2;
  const RightSingularPairs base = RandomizedRightSingular(r, options);
  // Same seed and threads: the same bits.
  const RightSingularPairs again = RandomizedRightSingular(r, options);
  EXPECT_EQ(base.vectors, again.vectors);
  EXPECT_EQ(base.values, again.values);
  // Another thread count or seed: the same subspace and values, up to the
  // single-precision rounding of the power iterations.
  const Eigen::MatrixXd projector = base.vectors * base.vectors.transpose();
  for (const auto& [threads, seed] :
       {std::pair<int, uint64_t>{3, 1}, std::pair<int, uint64_t>{2, 99}}) {
    options.threads = threads;
    options.seed = seed;
    const RightSingularPairs other = RandomizedRightSingular(r, options);
    EXPECT_LT((other.vectors * other.vectors.transpose() - projector)
                  .cwiseAbs()
                  .maxCoeff(),
              1e-6)
        << threads << " " << seed;
    for (int c = 0; c < 5; ++c) {
      EXPECT_NEAR(other.values[c], base.values[c], 1e-9 * base.values[0]);
    }
  }
}

}  // namespace
}  // namespace eval
}  // namespace affinity
