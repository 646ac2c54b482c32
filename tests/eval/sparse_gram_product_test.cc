#include "trainer/eval/sparse_gram_product.h"

#include <random>

#include <Eigen/Dense>

#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"

namespace affinity {
namespace eval {
namespace {

using testing::DenseOf;
using testing::RandomSparse;

DenseBlock RandomBlock(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  DenseBlock x(rows, cols);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  return x;
}

TEST(SparseGramProductTest, DoubleEqualsDenseProductForAnyThreadCount) {
  // 3000 users: several user chunks, so workers really split the rows.
  const CsrMatrix r = RandomSparse(3000, 40, 0.1, 1);
  const DenseBlock x = RandomBlock(40, 9, 2);
  const Eigen::MatrixXd dense = DenseOf(r);
  const Eigen::MatrixXd expected = dense.transpose() * (dense * x);
  const double scale = expected.cwiseAbs().maxCoeff();
  for (int threads : {1, 2, 5}) {
    const DenseBlock w = SparseGramProduct(r, x, threads);
    ASSERT_EQ(w.rows(), 40);
    ASSERT_EQ(w.cols(), 9);
    EXPECT_LT((w - expected).cwiseAbs().maxCoeff(), 1e-12 * scale) << threads;
  }
}

TEST(SparseGramProductTest, FloatEqualsDenseProductToSinglePrecision) {
  const CsrMatrix r = RandomSparse(2000, 30, 0.2, 3);
  const DenseBlock x = RandomBlock(30, 16, 4);
  const Eigen::MatrixXd dense = DenseOf(r);
  const Eigen::MatrixXd expected = dense.transpose() * (dense * x);
  const double scale = expected.cwiseAbs().maxCoeff();
  const FloatBlock w = SparseGramProduct(r, FloatBlock(x.cast<float>()), 2);
  const Eigen::MatrixXd error = w.cast<double>() - expected;
  EXPECT_LT(error.cwiseAbs().maxCoeff(), 1e-5 * scale);
  // and it is not exact: the products really ran in single precision.
  EXPECT_GT(error.cwiseAbs().maxCoeff(), 1e-12 * scale);
}

TEST(SparseGramProductTest, SameThreadCountSameBits) {
  const CsrMatrix r = RandomSparse(3000, 25, 0.1, 5);
  const DenseBlock x = RandomBlock(25, 8, 6);
  EXPECT_EQ(SparseGramProduct(r, x, 3), SparseGramProduct(r, x, 3));
}

TEST(SparseGramProductTest, SkipsEmptyRowsAndColumns) {
  // Row 1 and column 2 are empty; column 2 of the result is all zero.
  const CsrMatrix r(3, 4, {0, 2, 2, 4}, {0, 3, 1, 3}, {1.0f, 2.0f, 3.0f, 4.0f});
  const DenseBlock x = RandomBlock(4, 3, 7);
  const Eigen::MatrixXd dense = DenseOf(r);
  const Eigen::MatrixXd expected = dense.transpose() * (dense * x);
  const DenseBlock w = SparseGramProduct(r, x, 2);
  EXPECT_LT((w - expected).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(w.row(2).cwiseAbs().maxCoeff(), 0.0);
}

TEST(ProjectedGramTest, EqualsDenseGramAndIgnoresThreadCount) {
  // 20000 users: three fixed user blocks of 8192.
  const CsrMatrix r = RandomSparse(20000, 30, 0.05, 8);
  const DenseBlock x = RandomBlock(30, 6, 9);
  const Eigen::MatrixXd y = DenseOf(r) * x;
  const Eigen::MatrixXd expected = y.transpose() * y;
  const Eigen::MatrixXd one = ProjectedGram(r, x, 1);
  ASSERT_EQ(one.rows(), 6);
  ASSERT_EQ(one.cols(), 6);
  EXPECT_LT((one - expected).cwiseAbs().maxCoeff(),
            1e-12 * expected.cwiseAbs().maxCoeff());
  EXPECT_EQ(one, one.transpose());
  EXPECT_EQ(ProjectedGram(r, x, 4), one);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
