#include "trainer/data/coo_builder.h"

#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

TEST(CooBuilderTest, MergesDuplicatesSummingValuesAndKeepingLatestTimestamp) {
  CooBuilder builder(/*with_timestamps=*/true);
  builder.Add(1, 3, 1.0f, 100);
  builder.Add(0, 2, 2.0f, 50);
  builder.Add(1, 0, 4.0f, 70);
  builder.Add(1, 3, 2.5f, 90);
  builder.Add(1, 3, 0.5f, 300);
  absl::StatusOr<CooBuilder::Result> r = builder.Build(2, 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->duplicates_merged, 2);
  EXPECT_THAT(r->matrix.indptr(), ::testing::ElementsAre(0, 1, 3));
  EXPECT_THAT(r->matrix.indices(), ::testing::ElementsAre(2, 0, 3));
  EXPECT_THAT(r->matrix.values(), ::testing::ElementsAre(2.0f, 4.0f, 4.0f));
  EXPECT_THAT(r->timestamps, ::testing::ElementsAre(50, 70, 300));
  EXPECT_EQ(builder.size(), 0);
}

TEST(CooBuilderTest, WithoutTimestampsReturnsNone) {
  CooBuilder builder(/*with_timestamps=*/false);
  builder.Add(0, 0, 1.0f, 123);
  absl::StatusOr<CooBuilder::Result> r = builder.Build(1, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timestamps.empty());
  EXPECT_EQ(r->matrix.nnz(), 1);
}

TEST(CooBuilderTest, RejectsEntriesOutsideTheShape) {
  CooBuilder builder(false);
  builder.Add(0, 5, 1.0f);
  absl::StatusOr<CooBuilder::Result> r = builder.Build(1, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("(0, 5)"));

  CooBuilder rows_builder(false);
  rows_builder.Add(0, 0, 1.0f);
  rows_builder.Add(3, 1, 1.0f);
  r = rows_builder.Build(3, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("(3, 1)"));

  CooBuilder scattered(false);
  scattered.Add(2, 0, 1.0f);
  scattered.Add(1, 7, 1.0f);
  EXPECT_FALSE(scattered.sequential());
  r = scattered.Build(3, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("(1, 7)"));
}

TEST(CooBuilderTest, RowGroupedInputStaysSequential) {
  CooBuilder builder(/*with_timestamps=*/true);
  builder.Reserve(100);
  // Row 0 and 3 empty; duplicates and unsorted columns within rows.
  builder.Add(1, 4, 1.0f, 10);
  builder.Add(1, 2, 2.0f, 20);
  builder.Add(1, 4, 3.0f, 5);
  builder.Add(2, 0, 1.0f, 7);
  builder.Add(4, 1, 6.0f, 8);
  EXPECT_TRUE(builder.sequential());
  absl::StatusOr<CooBuilder::Result> r = builder.Build(6, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->duplicates_merged, 1);
  EXPECT_THAT(r->matrix.indptr(), ::testing::ElementsAre(0, 0, 2, 3, 3, 4, 4));
  EXPECT_THAT(r->matrix.indices(), ::testing::ElementsAre(2, 4, 0, 1));
  EXPECT_THAT(r->matrix.values(),
              ::testing::ElementsAre(2.0f, 4.0f, 1.0f, 6.0f));
  EXPECT_THAT(r->timestamps, ::testing::ElementsAre(20, 10, 7, 8));
  EXPECT_EQ(r->matrix.MemoryBytes(), 7 * 8 + 4 * 4 + 4 * 4);
}

TEST(CooBuilderTest, EmptyBuilderGivesEmptyMatrix) {
  CooBuilder builder(false);
  absl::StatusOr<CooBuilder::Result> r = builder.Build(3, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matrix.rows(), 3);
  EXPECT_EQ(r->matrix.nnz(), 0);
  EXPECT_THAT(r->matrix.indptr(), ::testing::ElementsAre(0, 0, 0, 0));
}

// More entries than one storage block, against a map. The first entries
// come grouped by row (sequential storage), the rest in random order
// (blocks), so that both are merged by Build().
TEST(CooBuilderTest, ManyEntriesAcrossBlocksMatchReference) {
  std::mt19937_64 rng(3);
  const int rows = 1000, cols = 500;
  CooBuilder builder(true);
  std::map<std::pair<uint32_t, uint32_t>, std::pair<float, int64_t>> expected;
  const int grouped = 50000;
  const int n = (1 << 20) + 12345;
  for (int i = 0; i < n; ++i) {
    const uint32_t r = i < grouped ? static_cast<uint32_t>(i / 100)
                                   : static_cast<uint32_t>(rng() % rows);
    if (i == grouped) {
      EXPECT_TRUE(builder.sequential());
    }
    const uint32_t c = static_cast<uint32_t>(rng() % cols);
    const float v = static_cast<float>(rng() % 3);
    const int64_t t = static_cast<int64_t>(rng() % 1000000);
    builder.Add(r, c, v, t);
    auto [it, inserted] = expected.try_emplace({r, c}, v, t);
    if (!inserted) {
      it->second.first += v;
      it->second.second = std::max(it->second.second, t);
    }
  }
  EXPECT_FALSE(builder.sequential());
  absl::StatusOr<CooBuilder::Result> res = builder.Build(rows, cols);
  ASSERT_TRUE(res.ok());
  const CsrMatrix& m = res->matrix;
  ASSERT_EQ(m.nnz(), static_cast<int64_t>(expected.size()));
  EXPECT_EQ(res->duplicates_merged, n - m.nnz());
  auto it = expected.begin();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = m.indptr()[r]; i < m.indptr()[r + 1]; ++i, ++it) {
      ASSERT_EQ(it->first.first, r);
      ASSERT_EQ(it->first.second, m.indices()[i]);
      ASSERT_EQ(it->second.first, m.values()[i]);
      ASSERT_EQ(it->second.second, res->timestamps[i]);
    }
  }
}

}  // namespace
}  // namespace affinity
