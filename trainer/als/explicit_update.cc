#include "trainer/als/explicit_update.h"

#include <algorithm>
#include <atomic>

#include <Eigen/Cholesky>

#include "trainer/als/factor_dispatch.h"
#include "trainer/als/outer_products.h"
#include "trainer/als/parallel_for.h"
#include "trainer/als/prefetch.h"

namespace affinity {
namespace {

template <int kF>
int64_t ExplicitRows(const CsrMatrix& ratings, const FactorMatrix& other,
                  const FactorVector& other_bias, float global_mean,
                  float regularization, int64_t begin, int64_t end,
                  FactorMatrix* factors, FactorVector* bias) {
  constexpr int kF1 = PlusOne(kF);
  using Vec = Eigen::Matrix<float, kF, 1>;
  using Vec1 = Eigen::Matrix<float, kF1, 1>;
  using Mat1 = Eigen::Matrix<float, kF1, kF1>;
  const int f = static_cast<int>(other.cols());
  const float* y_data = other.data();
  using Mat = Eigen::Matrix<float, kF, kF>;
  Mat yy(f, f);
  Vec y_sum(f), ty_sum(f);
  Mat1 a(f + 1, f + 1);
  Vec1 b(f + 1), z(f + 1);
  Eigen::LLT<Mat1> llt(f + 1);
  const uint32_t* all_indices = ratings.indices().data();
  const int64_t chunk_end = ratings.indptr()[end];
  int64_t failures = 0;
  for (int64_t u = begin; u < end; ++u) {
    const CsrMatrix::Row row = ratings.row(u);
    Eigen::Map<Vec> x(factors->data() + u * f, f);
    if (row.size() == 0) {
      x.setZero();
      (*bias)(u) = 0.0f;
      continue;
    }
    // Prefetching runs across row ends into the rows that follow.
    const uint32_t* ahead = row.indices.data();
    const int64_t ahead_limit = chunk_end - (ahead - all_indices);
    // Normal equations of [x, b] with design rows [y_i, 1] and targets
    // t_i = r_ui - mu - b_i: [[sum y y^T, sum y], [sum y^T, n]] and
    // [sum t y, sum t], plus reg on the diagonal. Only the lower triangle is
    // filled; LLT reads nothing else.
    yy.setZero();
    y_sum.setZero();
    ty_sum.setZero();
    float t_sum = 0.0f;
    const int64_t n = static_cast<int64_t>(row.size());
    for (int64_t k = 0; k < n; ++k) {
      PrefetchAhead(y_data, f, ahead, k, ahead_limit);
      const uint32_t i = row.indices[k];
      const Eigen::Map<const Vec> y(y_data + static_cast<int64_t>(i) * f, f);
      const float t = row.values[k] - global_mean - other_bias(i);
      y_sum += y;
      ty_sum += t * y;
      t_sum += t;
    }
    AddWeightedOuterProducts<kF>(y_data, f, row.indices.data(), nullptr, 1.0f,
                                 static_cast<int64_t>(row.size()), &yy);
    a.template topLeftCorner<kF, kF>(f, f) = yy;
    a.template bottomLeftCorner<1, kF>(1, f) = y_sum.transpose();
    a(f, f) = static_cast<float>(row.size());
    b.template head<kF>(f) = ty_sum;
    b(f) = t_sum;
    a.diagonal().array() += regularization;
    llt.compute(a);  // reads the lower triangle only
    if (llt.info() != Eigen::Success) {
      ++failures;  // keeps the previous [x, b]
      continue;
    }
    z = llt.solve(b);
    x = z.template head<kF>(f);
    (*bias)(u) = z(f);
  }
  return failures;
}

template <int kF>
double ErrorRows(const CsrMatrix& ratings, const FactorMatrix& users,
                 const FactorVector& user_bias, const FactorMatrix& items,
                 const FactorVector& item_bias, float global_mean,
                 int64_t begin, int64_t end) {
  using Vec = Eigen::Matrix<float, kF, 1>;
  const int f = static_cast<int>(items.cols());
  double total = 0.0;
  for (int64_t u = begin; u < end; ++u) {
    const Eigen::Map<const Vec> x(users.data() + u * f, f);
    const CsrMatrix::Row row = ratings.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      const uint32_t i = row.indices[k];
      const Eigen::Map<const Vec> y(items.data() + static_cast<int64_t>(i) * f,
                                    f);
      const double e = static_cast<double>(row.values[k]) - global_mean -
                       user_bias(u) - item_bias(i) - x.dot(y);
      total += e * e;
    }
  }
  return total;
}

}  // namespace

int64_t UpdateExplicit(const CsrMatrix& ratings, const FactorMatrix& other,
                       const FactorVector& other_bias, float global_mean,
                       float regularization, int threads, FactorMatrix* factors,
                       FactorVector* bias) {
  const int64_t rows = ratings.rows();
  const int64_t chunk =
      std::clamp<int64_t>(rows / (static_cast<int64_t>(threads) * 64), 8, 256);
  std::atomic<int64_t> failures{0};
  DispatchFactors(static_cast<int>(other.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    ParallelFor(rows, threads, chunk, [&](int64_t begin, int64_t end, int) {
      failures += ExplicitRows<kF>(ratings, other, other_bias, global_mean,
                                   regularization, begin, end, factors, bias);
    });
  });
  return failures.load();
}

double ExplicitSquaredError(const CsrMatrix& ratings,
                            const FactorMatrix& user_factors,
                            const FactorVector& user_bias,
                            const FactorMatrix& item_factors,
                            const FactorVector& item_bias, float global_mean,
                            int threads) {
  constexpr int64_t kChunk = 1024;
  double total = 0.0;
  DispatchFactors(static_cast<int>(item_factors.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    total = ParallelSum(ratings.rows(), threads, kChunk,
                        [&](int64_t begin, int64_t end) {
                          return ErrorRows<kF>(ratings, user_factors,
                                               user_bias, item_factors,
                                               item_bias, global_mean, begin,
                                               end);
                        });
  });
  return total;
}

}  // namespace affinity
