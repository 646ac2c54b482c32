#include "trainer/als/parallel_for.h"

#include <atomic>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace affinity {
namespace {

TEST(ParallelForTest, VisitsEveryIndexOnceWithValidWorkers) {
  for (Schedule schedule : {Schedule::kStatic, Schedule::kDynamic}) {
    for (int threads : {1, 2, 3, 8}) {
      for (int64_t n : {0, 1, 7, 100, 1001}) {
        std::vector<std::atomic<int>> seen(n);
        std::atomic<bool> bad_worker{false};
        ParallelFor(n, threads, 16, schedule,
                    [&](int64_t begin, int64_t end, int worker) {
                      if (worker < 0 || worker >= threads) bad_worker = true;
                      for (int64_t i = begin; i < end; ++i) ++seen[i];
                    });
        for (int64_t i = 0; i < n; ++i) {
          EXPECT_EQ(seen[i].load(), 1) << "i=" << i << " threads=" << threads;
        }
        EXPECT_FALSE(bad_worker.load());
      }
    }
  }
}

TEST(ParallelForTest, ChunkBoundariesDependOnlyOnChunkSize) {
  std::vector<std::pair<int64_t, int64_t>> one, many;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> per_chunk(NumChunks(103, 10));
  for (int threads : {1, 4}) {
    ParallelFor(103, threads, 10, [&](int64_t begin, int64_t end, int) {
      per_chunk[begin / 10].push_back({begin, end});
    });
  }
  for (int64_t c = 0; c < NumChunks(103, 10); ++c) {
    ASSERT_EQ(per_chunk[c].size(), 2u);
    EXPECT_EQ(per_chunk[c][0], per_chunk[c][1]);
    EXPECT_EQ(per_chunk[c][0].first, c * 10);
  }
  EXPECT_EQ(per_chunk.back()[0].second, 103);
}

TEST(ParallelSumTest, BitwiseIdenticalAcrossThreadCounts) {
  // Terms of very different magnitude make the sum order-sensitive.
  auto term = [](int64_t i) { return std::pow(1.7, i % 40) / (i + 1.0); };
  auto sum_with = [&](int threads) {
    return ParallelSum(10000, threads, 64, [&](int64_t begin, int64_t end) {
      double s = 0;
      for (int64_t i = begin; i < end; ++i) s += term(i);
      return s;
    });
  };
  const double reference = sum_with(1);
  double plain = 0;
  for (int64_t i = 0; i < 10000; ++i) plain += term(i);
  EXPECT_NEAR(reference, plain, 1e-9 * std::abs(plain));
  for (int threads : {2, 3, 7}) EXPECT_EQ(sum_with(threads), reference);
}

}  // namespace
}  // namespace affinity
