#include "trainer/eval/moments.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace affinity {
namespace eval {
namespace {

constexpr double kEps = 1e-12;

TEST(RunningMomentsTest, HandComputedMeanVarianceAndInterval) {
  // {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, squared deviations
  // 9+1+1+1+0+0+4+16 = 32, sample variance 32/7.
  RunningMoments m;
  for (double x : {2, 4, 4, 4, 5, 5, 7, 9}) m.Add(x);
  EXPECT_EQ(m.count(), 8);
  EXPECT_NEAR(m.mean(), 5, kEps);
  EXPECT_NEAR(m.sample_variance(), 32.0 / 7, kEps);
  EXPECT_NEAR(m.sample_sd(), std::sqrt(32.0 / 7), kEps);
  EXPECT_NEAR(m.ci95(), 1.959963984540054 * std::sqrt(32.0 / 7) / std::sqrt(8.0),
              kEps);
}

TEST(RunningMomentsTest, FewerThanTwoValuesHaveNoInterval) {
  RunningMoments m;
  EXPECT_EQ(m.mean(), 0);
  EXPECT_EQ(m.ci95(), 0);
  m.Add(3.5);
  EXPECT_EQ(m.mean(), 3.5);
  EXPECT_EQ(m.sample_variance(), 0);
  EXPECT_EQ(m.ci95(), 0);
  EXPECT_EQ(Ci95HalfWidth(2.0, 1), 0);
  EXPECT_NEAR(Ci95HalfWidth(2.0, 4), 1.959963984540054, kEps);
}

TEST(RunningMomentsTest, MergeEqualsAddingEverythingInOrder) {
  const std::vector<double> values = {0.3, 1.7, -2.5, 4.0, 0.0, 9.25, 3.5};
  RunningMoments all;
  for (double x : values) all.Add(x);
  for (size_t cut = 0; cut <= values.size(); ++cut) {
    RunningMoments head, tail;
    for (size_t i = 0; i < cut; ++i) head.Add(values[i]);
    for (size_t i = cut; i < values.size(); ++i) tail.Add(values[i]);
    head.Merge(tail);
    EXPECT_EQ(head.count(), all.count()) << cut;
    EXPECT_NEAR(head.mean(), all.mean(), kEps) << cut;
    EXPECT_NEAR(head.sample_variance(), all.sample_variance(), kEps) << cut;
  }
}

TEST(RunningMomentsTest, SmallSpreadAroundALargeMeanStaysAccurate) {
  // Values 1e9 + {1, 2, 3}: variance 1, which the naive sum of squares
  // formula loses entirely in double precision.
  RunningMoments m;
  for (double x : {1e9 + 1, 1e9 + 2, 1e9 + 3}) m.Add(x);
  EXPECT_NEAR(m.sample_variance(), 1.0, 1e-6);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
