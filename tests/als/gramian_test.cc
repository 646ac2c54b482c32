#include "trainer/als/gramian.h"

#include <random>

#include "gtest/gtest.h"
#include "trainer/als/factor_init.h"

namespace affinity {
namespace {

TEST(GramianTest, MatchesDenseProductPlusShift) {
  std::mt19937_64 rng(3);
  FactorMatrix m(9000, 12);  // spans several row blocks
  FillNormal(1.0f, &rng, &m);
  const Eigen::MatrixXf g = Gramian(m, 0.5f, 2);
  const Eigen::MatrixXd expected =
      m.cast<double>().transpose() * m.cast<double>() +
      0.5 * Eigen::MatrixXd::Identity(12, 12);
  ASSERT_EQ(g.rows(), 12);
  ASSERT_EQ(g.cols(), 12);
  EXPECT_LT((g.cast<double>() - expected).norm(), 1e-5 * expected.norm());
  EXPECT_EQ(g, g.transpose());
}

TEST(GramianTest, SameBitsForAnyThreadCount) {
  std::mt19937_64 rng(4);
  FactorMatrix m(20000, 16);
  FillNormal(1.0f, &rng, &m);
  const Eigen::MatrixXf one = Gramian(m, 0.0f, 1);
  for (int threads : {2, 5}) EXPECT_EQ(Gramian(m, 0.0f, threads), one);
}

TEST(GramianTest, EmptyMatrixGivesShiftOnly) {
  FactorMatrix m(0, 4);
  EXPECT_EQ(Gramian(m, 2.0f, 2), 2.0f * Eigen::MatrixXf::Identity(4, 4));
}

}  // namespace
}  // namespace affinity
