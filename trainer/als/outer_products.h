// Accumulates weighted outer products of factor rows into a dense F x F
// matrix, a += sum_k weight_k * y_k y_k^T with y_k = factors row indices[k],
// reading the rows in place through maps. Four rows are folded into each
// sweep over `a`, so the accumulator is loaded and stored a quarter as
// often as with one rank-1 update per row; the full matrix (both triangles)
// is updated, which keeps every column operation a whole fixed-size vector.
#ifndef AFFINITY_TRAINER_ALS_OUTER_PRODUCTS_H_
#define AFFINITY_TRAINER_ALS_OUTER_PRODUCTS_H_

#include <cstdint>

#include <Eigen/Core>

namespace affinity {

// weight_k = scale * weights[k], or scale when weights is null.
template <int kF>
void AddWeightedOuterProducts(const float* factors, int f,
                              const uint32_t* indices, const float* weights,
                              float scale, int64_t n,
                              Eigen::Matrix<float, kF, kF>* a) {
  using ConstVec = Eigen::Map<const Eigen::Matrix<float, kF, 1>>;
  auto weight = [&](int64_t k) {
    return weights == nullptr ? scale : scale * weights[k];
  };
  auto row = [&](int64_t k) {
    return ConstVec(factors + static_cast<int64_t>(indices[k]) * f, f);
  };
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const ConstVec y0 = row(k), y1 = row(k + 1), y2 = row(k + 2),
                   y3 = row(k + 3);
    const float c0 = weight(k), c1 = weight(k + 1), c2 = weight(k + 2),
                c3 = weight(k + 3);
    for (int j = 0; j < f; ++j) {
      a->col(j) += (c0 * y0(j)) * y0 + (c1 * y1(j)) * y1 +
                   (c2 * y2(j)) * y2 + (c3 * y3(j)) * y3;
    }
  }
  for (; k < n; ++k) {
    const ConstVec y = row(k);
    const float c = weight(k);
    for (int j = 0; j < f; ++j) a->col(j) += (c * y(j)) * y;
  }
}

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_OUTER_PRODUCTS_H_
