#include "trainer/eval/orthonormalize.h"

#include <cmath>
#include <random>

#include <Eigen/Dense>

#include "gtest/gtest.h"

namespace affinity {
namespace eval {
namespace {

DenseBlock RandomBlock(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  DenseBlock x(rows, cols);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  return x;
}

// Q has orthonormal columns and spans the columns of `original`.
void ExpectOrthonormalBasisOf(const DenseBlock& q, const DenseBlock& original,
                              double tolerance) {
  ASSERT_EQ(q.rows(), original.rows());
  ASSERT_EQ(q.cols(), original.cols());
  const Eigen::MatrixXd identity =
      Eigen::MatrixXd::Identity(q.cols(), q.cols());
  EXPECT_LT((q.transpose() * q - identity).cwiseAbs().maxCoeff(), 1e-13);
  const Eigen::MatrixXd residual =
      original - q * (q.transpose() * original);
  EXPECT_LT(residual.cwiseAbs().maxCoeff(),
            tolerance * original.cwiseAbs().maxCoeff());
}

TEST(OrthonormalizeTest, WellConditionedBlockByCholeskyQr) {
  const DenseBlock original = RandomBlock(500, 20, 1);
  DenseBlock x = original;
  EXPECT_TRUE(Orthonormalize(&x, 2));
  ExpectOrthonormalBasisOf(x, original, 1e-12);
}

TEST(OrthonormalizeTest, ResultDoesNotDependOnThreads) {
  // 10000 rows: three fixed row blocks of 4096.
  const DenseBlock original = RandomBlock(10000, 16, 2);
  DenseBlock one = original, three = original;
  Orthonormalize(&one, 1);
  Orthonormalize(&three, 3);
  EXPECT_EQ(one, three);
  ExpectOrthonormalBasisOf(one, original, 1e-12);
}

TEST(OrthonormalizeTest, IllConditionedBlockFallsBackToHouseholder) {
  // Column scales from 1 down to 1e-10: Cholesky QR cannot keep the
  // columns orthogonal, Householder QR can.
  DenseBlock original = RandomBlock(300, 8, 3);
  for (int c = 0; c < 8; ++c) original.col(c) *= std::pow(10.0, -10.0 * c / 7);
  DenseBlock x = original;
  EXPECT_FALSE(Orthonormalize(&x, 2));
  ExpectOrthonormalBasisOf(x, original, 1e-12);
}

TEST(OrthonormalizeTest, RankDeficientBlockStillGetsOrthonormalColumns) {
  DenseBlock original = RandomBlock(200, 6, 4);
  original.col(3) = original.col(1);
  DenseBlock x = original;
  EXPECT_FALSE(Orthonormalize(&x, 2));
  ExpectOrthonormalBasisOf(x, original, 1e-12);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
