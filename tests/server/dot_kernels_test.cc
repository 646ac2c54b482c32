// Dot kernels the scorers rely on: DotRowsLanesGather reads rows in place by
// index and must give the very bits DotRowsLanes gives over the same rows
// copied side by side (the int8 scorer's re-rank returns the exact scorer's
// scores through it); AtOrAboveMask is the threshold compare of top-k
// selection.
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/dot_kernels.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {
namespace {

TEST(DotKernelsTest, GatheredRowsScoreBitForBitAsCopiedRows) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (size_t dims : {3, 16, 64, 70}) {
    const size_t rows = 500;
    std::vector<float> dense(rows * dims);
    for (float& v : dense) v = normal(rng);
    const std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
    std::vector<float> query(m->stride(), 0.0f);
    for (size_t d = 0; d < dims; ++d) query[d] = normal(rng);
    std::uniform_int_distribution<uint32_t> any(0, rows - 1);
    for (size_t n : {1, 15, 16, 17, 47, 48, 100, 333}) {
      std::vector<uint32_t> indices(n);
      for (uint32_t& i : indices) i = any(rng);
      ItemMatrix copied(n, dims);
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(copied.mutable_row(i), m->row(indices[i]), m->stride() * sizeof(float));
      }
      std::vector<float> want(n), got(n);
      DotRowsLanes(copied.data(), n, copied.stride(), dims, query.data(), want.data());
      DotRowsLanesGather(m->data(), m->stride(), indices.data(), n, dims, query.data(),
                         got.data());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
            << "dims " << dims << " n " << n << " row " << i << ": " << got[i] << " vs " << want[i];
      }
      // And each is the row's inner product (to float rounding).
      for (size_t i = 0; i < n; ++i) {
        double exact = 0;
        for (size_t d = 0; d < dims; ++d) exact += double(dense[indices[i] * dims + d]) * query[d];
        EXPECT_NEAR(got[i], exact, 1e-4 * (1 + std::abs(exact)));
      }
    }
  }
}


TEST(DotKernelsTest, AtOrAboveMaskMarksTheScoresAtOrAboveTheThreshold) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  for (size_t n : {1, 7, 8, 15, 16, 17, 33, 63, 64}) {
    std::vector<float> a(n);
    for (float& v : a) v = normal(rng);
    if (n > 3) a[3] = std::nanf("");
    for (float threshold : {-1e30f, a[0], 0.0f, 1e30f}) {
      uint64_t want = 0;
      for (size_t j = 0; j < n; ++j) want |= static_cast<uint64_t>(a[j] >= threshold) << j;
      EXPECT_EQ(AtOrAboveMask(a.data(), n, threshold), want) << "n " << n << " threshold " << threshold;
    }
  }
}

}  // namespace
}  // namespace affinity::server
