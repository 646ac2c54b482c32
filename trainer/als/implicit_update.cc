#include "trainer/als/implicit_update.h"

#include <algorithm>
#include <atomic>

#include <Eigen/Cholesky>

#include "trainer/als/factor_dispatch.h"
#include "trainer/als/outer_products.h"
#include "trainer/als/parallel_for.h"
#include "trainer/als/prefetch.h"

namespace affinity {
namespace {

// Rows per work unit: small enough to balance power-law row lengths on a
// few threads. Results do not depend on it.
int64_t RowChunk(int64_t rows, int threads) {
  return std::clamp<int64_t>(rows / (static_cast<int64_t>(threads) * 64), 8,
                             256);
}

template <int kF>
using Vec = Eigen::Matrix<float, kF, 1>;
template <int kF>
using Mat = Eigen::Matrix<float, kF, kF>;
template <int kF>
using RowMap = Eigen::Map<Vec<kF>>;
template <int kF>
using ConstRowMap = Eigen::Map<const Vec<kF>>;

template <int kF>
void CgRows(const CsrMatrix& interactions, const FactorMatrix& other,
            const Eigen::MatrixXf& gram_dynamic, float alpha, int cg_steps,
            int64_t begin, int64_t end, FactorMatrix* factors) {
  const int f = static_cast<int>(other.cols());
  const Eigen::Map<const Mat<kF>> gram(gram_dynamic.data(), f, f);
  const float* y_data = other.data();
  Vec<kF> r(f), p(f), ap(f);
  const uint32_t* all_indices = interactions.indices().data();
  const int64_t chunk_end = interactions.indptr()[end];
  for (int64_t u = begin; u < end; ++u) {
    RowMap<kF> x(factors->data() + u * f, f);
    const CsrMatrix::Row row = interactions.row(u);
    const uint32_t* idx = row.indices.data();
    // The first pass prefetches across row ends into the rows that follow.
    const int64_t ahead_limit = chunk_end - (idx - all_indices);
    const float* w = row.values.data();
    const int64_t n = static_cast<int64_t>(row.size());
    if (n == 0) {
      // b = 0: the minimiser is 0, which a few warm-started steps from a
      // random start would not reach.
      x.setZero();
      continue;
    }

    // r = b - A x, with b = sum (1 + alpha w) y and A x expanded.
    r.noalias() = -(gram * x);
    for (int64_t k = 0; k < n; ++k) {
      PrefetchAhead(y_data, f, idx, k, ahead_limit);
      const ConstRowMap<kF> y(y_data + static_cast<int64_t>(idx[k]) * f, f);
      const float cm1 = alpha * w[k];
      r += (1.0f + cm1 - cm1 * y.dot(x)) * y;
    }
    p = r;
    float rs_old = r.squaredNorm();
    if (rs_old < 1e-20f) continue;
    for (int step = 0; step < cg_steps; ++step) {
      ap.noalias() = gram * p;
      for (int64_t k = 0; k < n; ++k) {
        PrefetchAhead(y_data, f, idx, k, n);
        const ConstRowMap<kF> y(y_data + static_cast<int64_t>(idx[k]) * f,
                                f);
        ap += (alpha * w[k] * y.dot(p)) * y;
      }
      const float curvature = p.dot(ap);
      // Only a singular system (regularization 0) can stop here.
      if (!(curvature > 0.0f)) break;
      const float step_size = rs_old / curvature;
      x += step_size * p;
      r -= step_size * ap;
      const float rs_new = r.squaredNorm();
      if (rs_new < 1e-20f) break;
      p = r + (rs_new / rs_old) * p;
      rs_old = rs_new;
    }
  }
}

template <int kF>
int64_t CholeskyRows(const CsrMatrix& interactions, const FactorMatrix& other,
                     const Eigen::MatrixXf& gram_dynamic, float alpha,
                     int64_t begin, int64_t end, FactorMatrix* factors) {
  const int f = static_cast<int>(other.cols());
  const Eigen::Map<const Mat<kF>> gram(gram_dynamic.data(), f, f);
  const float* y_data = other.data();
  Mat<kF> a(f, f);
  Vec<kF> b(f);
  Eigen::LLT<Mat<kF>> llt(f);
  int64_t failures = 0;
  const uint32_t* all_indices = interactions.indices().data();
  const int64_t chunk_end = interactions.indptr()[end];
  for (int64_t u = begin; u < end; ++u) {
    const CsrMatrix::Row row = interactions.row(u);
    const uint32_t* ahead = row.indices.data();
    const int64_t ahead_limit = chunk_end - (ahead - all_indices);
    a = gram;
    b.setZero();
    const int64_t n = static_cast<int64_t>(row.size());
    for (int64_t k = 0; k < n; ++k) {
      PrefetchAhead(y_data, f, ahead, k, ahead_limit);
      const ConstRowMap<kF> y(
          y_data + static_cast<int64_t>(row.indices[k]) * f, f);
      b += (1.0f + alpha * row.values[k]) * y;
    }
    AddWeightedOuterProducts<kF>(y_data, f, row.indices.data(),
                                 row.values.data(), alpha,
                                 static_cast<int64_t>(row.size()), &a);
    llt.compute(a);
    if (llt.info() != Eigen::Success) {
      ++failures;
      continue;
    }
    RowMap<kF> x(factors->data() + u * f, f);
    x = llt.solve(b);
  }
  return failures;
}

template <int kF>
double ObjectiveRows(const CsrMatrix& interactions, const FactorMatrix& users,
                     const FactorMatrix& items,
                     const Eigen::MatrixXf& gram_dynamic, float alpha,
                     int64_t begin, int64_t end) {
  const int f = static_cast<int>(items.cols());
  const Eigen::Map<const Mat<kF>> gram(gram_dynamic.data(), f, f);
  Vec<kF> gx(f);
  double total = 0.0;
  const uint32_t* all_indices = interactions.indices().data();
  const int64_t chunk_end = interactions.indptr()[end];
  for (int64_t u = begin; u < end; ++u) {
    const ConstRowMap<kF> x(users.data() + u * f, f);
    gx.noalias() = gram * x;
    double row_total = x.dot(gx);
    const CsrMatrix::Row row = interactions.row(u);
    const uint32_t* ahead = row.indices.data();
    const int64_t ahead_limit = chunk_end - (ahead - all_indices);
    const int64_t n = static_cast<int64_t>(row.size());
    for (int64_t k = 0; k < n; ++k) {
      PrefetchAhead(items.data(), f, ahead, k, ahead_limit);
      const ConstRowMap<kF> y(
          items.data() + static_cast<int64_t>(row.indices[k]) * f, f);
      const double s = y.dot(x);
      const double c = 1.0 + static_cast<double>(alpha) * row.values[k];
      row_total += c * (1.0 - s) * (1.0 - s) - s * s;
    }
    total += row_total;
  }
  return total;
}

}  // namespace

void UpdateImplicitCg(const CsrMatrix& interactions, const FactorMatrix& other,
                      const Eigen::MatrixXf& gram, float alpha, int cg_steps,
                      int threads, FactorMatrix* factors) {
  const int64_t rows = interactions.rows();
  DispatchFactors(static_cast<int>(other.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    ParallelFor(rows, threads, RowChunk(rows, threads),
                [&](int64_t begin, int64_t end, int) {
                  CgRows<kF>(interactions, other, gram, alpha, cg_steps,
                             begin, end, factors);
                });
  });
}

int64_t UpdateImplicitCholesky(const CsrMatrix& interactions,
                               const FactorMatrix& other,
                               const Eigen::MatrixXf& gram, float alpha,
                               int threads, FactorMatrix* factors) {
  const int64_t rows = interactions.rows();
  std::atomic<int64_t> failures{0};
  DispatchFactors(static_cast<int>(other.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    ParallelFor(rows, threads, RowChunk(rows, threads),
                [&](int64_t begin, int64_t end, int) {
                  failures += CholeskyRows<kF>(interactions, other, gram,
                                               alpha, begin, end, factors);
                });
  });
  return failures.load();
}

double ImplicitObjective(const CsrMatrix& interactions,
                         const FactorMatrix& user_factors,
                         const FactorMatrix& item_factors,
                         const Eigen::MatrixXf& gram_items, float alpha,
                         float regularization, int threads) {
  // Fixed chunking keeps the double sum reproducible across thread counts.
  constexpr int64_t kChunk = 1024;
  double total = 0.0;
  DispatchFactors(static_cast<int>(item_factors.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    total = ParallelSum(interactions.rows(), threads, kChunk,
                        [&](int64_t begin, int64_t end) {
                          return ObjectiveRows<kF>(interactions, user_factors,
                                                   item_factors, gram_items,
                                                   alpha, begin, end);
                        });
  });
  // gram_items carries reg * I, which accounted for reg |X|^2 above.
  return total + static_cast<double>(regularization) *
                     item_factors.cast<double>().squaredNorm();
}

}  // namespace affinity
