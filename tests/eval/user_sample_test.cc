#include "trainer/eval/user_sample.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"

namespace affinity {
namespace eval {
namespace {

using ::testing::ElementsAre;
using testing::MatrixFromRows;
using testing::RandomRows;

TEST(SelectEvaluationUsersTest, WithoutCapTakesEveryUserWithHeldOutItems) {
  const CsrMatrix test = MatrixFromRows(4, {{1}, {}, {0, 3}, {}, {2}});
  EXPECT_THAT(SelectEvaluationUsers(test, 0, 1), ElementsAre(0, 2, 4));
  // A cap at or above the number of qualifying users changes nothing.
  EXPECT_THAT(SelectEvaluationUsers(test, 3, 1), ElementsAre(0, 2, 4));
  EXPECT_THAT(SelectEvaluationUsers(test, 100, 1), ElementsAre(0, 2, 4));
}

TEST(SelectEvaluationUsersTest, CappedSampleIsSortedDistinctQualifying) {
  std::mt19937_64 rng(3);
  const CsrMatrix test = MatrixFromRows(30, RandomRows(1000, 30, 0.05, rng));
  const std::vector<int64_t> all = SelectEvaluationUsers(test, 0, 9);
  ASSERT_GT(all.size(), 100u);
  const std::vector<int64_t> sample = SelectEvaluationUsers(test, 100, 9);
  ASSERT_EQ(sample.size(), 100u);
  EXPECT_TRUE(std::is_sorted(sample.begin(), sample.end()));
  EXPECT_EQ(std::adjacent_find(sample.begin(), sample.end()), sample.end());
  for (int64_t u : sample) {
    EXPECT_TRUE(std::binary_search(all.begin(), all.end(), u)) << u;
  }
}

TEST(SelectEvaluationUsersTest, SameSeedSameSampleOtherSeedOtherSample) {
  std::mt19937_64 rng(4);
  const CsrMatrix test = MatrixFromRows(20, RandomRows(2000, 20, 0.1, rng));
  const std::vector<int64_t> a = SelectEvaluationUsers(test, 50, 123);
  const std::vector<int64_t> b = SelectEvaluationUsers(test, 50, 123);
  const std::vector<int64_t> c = SelectEvaluationUsers(test, 50, 124);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SelectEvaluationUsersTest, SampleSpreadsOverAllQualifyingUsers) {
  // Every user qualifies; over many seeds each user must be drawn at a rate
  // near 10 / 40 (a biased or truncated draw would starve some users).
  std::vector<std::vector<uint32_t>> rows(40, std::vector<uint32_t>{0});
  const CsrMatrix test = MatrixFromRows(1, rows);
  std::vector<int> drawn(40, 0);
  const int seeds = 2000;
  for (int seed = 0; seed < seeds; ++seed) {
    for (int64_t u : SelectEvaluationUsers(test, 10, seed)) ++drawn[u];
  }
  // Expected 500 draws per user, standard deviation about 19.4.
  for (int u = 0; u < 40; ++u) {
    EXPECT_GT(drawn[u], 400) << u;
    EXPECT_LT(drawn[u], 600) << u;
  }
}

}  // namespace
}  // namespace eval
}  // namespace affinity
