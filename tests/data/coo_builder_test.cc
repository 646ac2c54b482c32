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
}

// More entries than one storage block, in random order, against a map.
TEST(CooBuilderTest, ManyEntriesAcrossBlocksMatchReference) {
  std::mt19937_64 rng(3);
  const int rows = 1000, cols = 500;
  CooBuilder builder(true);
  std::map<std::pair<uint32_t, uint32_t>, std::pair<float, int64_t>> expected;
  const int n = (1 << 20) + 12345;
  for (int i = 0; i < n; ++i) {
    const uint32_t r = static_cast<uint32_t>(rng() % rows);
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
