#include "trainer/data/holdout.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

// A random matrix whose row r has r % 13 entries, plus distinct-ish
// timestamps aligned with the entries.
struct Fixture {
  CsrMatrix matrix;
  std::vector<int64_t> timestamps;
};

Fixture MakeFixture(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int rows = 200, cols = 60;
  std::vector<uint32_t> r, c;
  std::vector<float> v;
  for (int u = 0; u < rows; ++u) {
    std::set<uint32_t> items;
    while (static_cast<int>(items.size()) < u % 13) {
      items.insert(static_cast<uint32_t>(rng() % cols));
    }
    for (const uint32_t i : items) {
      r.push_back(u);
      c.push_back(i);
      v.push_back(1.0f + static_cast<float>(rng() % 5));
    }
  }
  Fixture f;
  f.matrix = *CsrMatrix::FromTriplets(rows, cols, r, c, v);
  for (int64_t k = 0; k < f.matrix.nnz(); ++k) {
    f.timestamps.push_back(static_cast<int64_t>(rng() % 1000));
  }
  return f;
}

using Entry = std::tuple<int64_t, uint32_t, float, int64_t>;

std::vector<Entry> EntriesOf(const CsrMatrix& m,
                             const std::vector<int64_t>& ts) {
  std::vector<Entry> out;
  for (int64_t u = 0; u < m.rows(); ++u) {
    for (int64_t k = m.indptr()[u]; k < m.indptr()[u + 1]; ++k) {
      out.emplace_back(u, m.indices()[k], m.values()[k],
                       ts.empty() ? 0 : ts[k]);
    }
  }
  return out;
}

int64_t ExpectedTest(int64_t n, double f) {
  if (n < 2) return 0;
  return std::min<int64_t>(static_cast<int64_t>(std::floor(f * n + 0.5)),
                           n - 1);
}

void ExpectPartition(const Fixture& f, const HoldoutSplit& s, double fraction) {
  ASSERT_EQ(s.train.rows(), f.matrix.rows());
  ASSERT_EQ(s.test.rows(), f.matrix.rows());
  EXPECT_EQ(s.train.cols(), f.matrix.cols());
  EXPECT_EQ(s.test.cols(), f.matrix.cols());
  EXPECT_EQ(s.train_timestamps.size(), static_cast<size_t>(s.train.nnz()));
  EXPECT_EQ(s.test_timestamps.size(), static_cast<size_t>(s.test.nnz()));
  std::vector<Entry> all = EntriesOf(s.train, s.train_timestamps);
  const std::vector<Entry> test = EntriesOf(s.test, s.test_timestamps);
  all.insert(all.end(), test.begin(), test.end());
  std::sort(all.begin(), all.end());
  // Disjoint and union equals the original: the sorted multiset of all
  // entries equals the original entries, each once.
  EXPECT_EQ(all, EntriesOf(f.matrix, f.timestamps));
  for (int64_t u = 0; u < f.matrix.rows(); ++u) {
    const int64_t n = f.matrix.row(u).size();
    EXPECT_EQ(static_cast<int64_t>(s.test.row(u).size()),
              ExpectedTest(n, fraction))
        << "user " << u << " n " << n;
    if (n >= 1) {
      EXPECT_GE(s.train.row(u).size(), 1u);
    }
    for (const CsrMatrix* m : {&s.train, &s.test}) {
      const CsrMatrix::Row row = m->row(u);
      for (size_t k = 1; k < row.size(); ++k) {
        EXPECT_LT(row.indices[k - 1], row.indices[k]);
      }
    }
  }
}

TEST(HoldoutTest, RandomSplitIsAPartitionWithExactCounts) {
  const Fixture f = MakeFixture(1);
  for (const double fraction : {0.1, 0.2, 0.25, 0.5, 0.9, 1.0}) {
    HoldoutOptions options;
    options.test_fraction = fraction;
    options.seed = 17;
    absl::StatusOr<HoldoutSplit> s =
        SplitHoldout(f.matrix, f.timestamps, options);
    ASSERT_TRUE(s.ok()) << s.status();
    ExpectPartition(f, *s, fraction);
  }
}

TEST(HoldoutTest, RandomSplitIsDeterministicPerSeed) {
  const Fixture f = MakeFixture(2);
  HoldoutOptions options;
  options.test_fraction = 0.3;
  options.seed = 5;
  absl::StatusOr<HoldoutSplit> a = SplitHoldout(f.matrix, {}, options);
  absl::StatusOr<HoldoutSplit> b = SplitHoldout(f.matrix, {}, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->test.indices(), b->test.indices());
  EXPECT_EQ(a->test.indptr(), b->test.indptr());
  EXPECT_EQ(a->train.indices(), b->train.indices());
  EXPECT_TRUE(a->train_timestamps.empty());
  options.seed = 6;
  absl::StatusOr<HoldoutSplit> c = SplitHoldout(f.matrix, {}, options);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->test.indptr(), a->test.indptr());    // same counts per user
  EXPECT_NE(c->test.indices(), a->test.indices());  // different choice
}

TEST(HoldoutTest, RandomSplitSpreadsChoicesOverPositions) {
  // Each of 10 positions of a 10-entry row goes to test about equally often
  // over many seeds (about 300 each of 3000 draws; bounds are ~6 sigma).
  const std::vector<uint32_t> r(10, 0);
  std::vector<uint32_t> c;
  for (uint32_t i = 0; i < 10; ++i) c.push_back(i);
  const std::vector<float> v(10, 1.0f);
  const CsrMatrix m = *CsrMatrix::FromTriplets(1, 10, r, c, v);
  std::vector<int> hits(10, 0);
  HoldoutOptions options;
  options.test_fraction = 0.3;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    options.seed = seed;
    absl::StatusOr<HoldoutSplit> s = SplitHoldout(m, {}, options);
    ASSERT_TRUE(s.ok());
    for (const uint32_t i : s->test.indices()) ++hits[i];
  }
  for (const int h : hits) {
    EXPECT_GT(h, 200);
    EXPECT_LT(h, 400);
  }
}

TEST(HoldoutTest, ZeroFractionLeavesTestEmpty) {
  const Fixture f = MakeFixture(3);
  HoldoutOptions options;
  options.test_fraction = 0.0;
  for (const HoldoutStrategy strategy :
       {HoldoutStrategy::kRandom, HoldoutStrategy::kTime}) {
    options.strategy = strategy;
    absl::StatusOr<HoldoutSplit> s =
        SplitHoldout(f.matrix, f.timestamps, options);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->test.nnz(), 0);
    EXPECT_EQ(s->test.rows(), f.matrix.rows());
    EXPECT_EQ(s->train.indices(), f.matrix.indices());
    EXPECT_EQ(s->train.values(), f.matrix.values());
  }
}

TEST(HoldoutTest, TimeSplitTakesTheLatestEntries) {
  const Fixture f = MakeFixture(4);
  HoldoutOptions options;
  options.strategy = HoldoutStrategy::kTime;
  options.test_fraction = 0.4;
  absl::StatusOr<HoldoutSplit> s =
      SplitHoldout(f.matrix, f.timestamps, options);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectPartition(f, *s, 0.4);
  for (int64_t u = 0; u < f.matrix.rows(); ++u) {
    if (s->test.row(u).size() == 0) continue;
    int64_t latest_train = -1, earliest_test = INT64_MAX;
    for (int64_t k = s->train.indptr()[u]; k < s->train.indptr()[u + 1]; ++k) {
      latest_train = std::max(latest_train, s->train_timestamps[k]);
    }
    for (int64_t k = s->test.indptr()[u]; k < s->test.indptr()[u + 1]; ++k) {
      earliest_test = std::min(earliest_test, s->test_timestamps[k]);
    }
    EXPECT_LE(latest_train, earliest_test) << "user " << u;
  }
}

TEST(HoldoutTest, TimeSplitBreaksTiesTowardLargerColumns) {
  const std::vector<uint32_t> r = {0, 0, 0, 0};
  const std::vector<uint32_t> c = {1, 2, 3, 4};
  const std::vector<float> v = {1, 1, 1, 1};
  const CsrMatrix m = *CsrMatrix::FromTriplets(1, 5, r, c, v);
  const std::vector<int64_t> ts = {7, 9, 9, 1};
  HoldoutOptions options;
  options.strategy = HoldoutStrategy::kTime;
  options.test_fraction = 0.25;
  absl::StatusOr<HoldoutSplit> s = SplitHoldout(m, ts, options);
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(s->test.indices(), ::testing::ElementsAre(3));
  EXPECT_THAT(s->train.indices(), ::testing::ElementsAre(1, 2, 4));
  EXPECT_THAT(s->train_timestamps, ::testing::ElementsAre(7, 9, 1));
}

TEST(HoldoutTest, SingleInteractionUsersStayInTrain) {
  const std::vector<uint32_t> r = {0, 1, 1};
  const std::vector<uint32_t> c = {0, 0, 1};
  const std::vector<float> v = {1, 2, 3};
  const CsrMatrix m = *CsrMatrix::FromTriplets(2, 2, r, c, v);
  HoldoutOptions options;
  options.test_fraction = 1.0;
  absl::StatusOr<HoldoutSplit> s = SplitHoldout(m, {}, options);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->train.row(0).size(), 1u);
  EXPECT_EQ(s->test.row(0).size(), 0u);
  EXPECT_EQ(s->train.row(1).size(), 1u);  // at least one kept in train
  EXPECT_EQ(s->test.row(1).size(), 1u);
}

TEST(HoldoutTest, RejectsBadArguments) {
  const Fixture f = MakeFixture(5);
  HoldoutOptions options;
  options.strategy = HoldoutStrategy::kTime;
  absl::StatusOr<HoldoutSplit> s = SplitHoldout(f.matrix, {}, options);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("time holdout needs timestamps"));

  options.strategy = HoldoutStrategy::kRandom;
  options.test_fraction = 1.5;
  s = SplitHoldout(f.matrix, {}, options);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("outside [0, 1]"));
  options.test_fraction = std::nan("");
  EXPECT_FALSE(SplitHoldout(f.matrix, {}, options).ok());

  options.test_fraction = 0.2;
  const std::vector<int64_t> short_ts = {1, 2};
  s = SplitHoldout(f.matrix, short_ts, options);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("expected one per entry"));

  EXPECT_EQ(*ParseHoldoutStrategy("time"), HoldoutStrategy::kTime);
  EXPECT_FALSE(ParseHoldoutStrategy("latest").ok());
}

}  // namespace
}  // namespace affinity
