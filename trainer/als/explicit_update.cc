#include "trainer/als/explicit_update.h"

#include <algorithm>

#include <Eigen/Cholesky>

#include "trainer/als/factor_dispatch.h"
#include "trainer/als/parallel_for.h"

namespace affinity {
namespace {

template <int kF>
void ExplicitRows(const CsrMatrix& ratings, const FactorMatrix& other,
                  const FactorVector& other_bias, float global_mean,
                  float regularization, int64_t begin, int64_t end,
                  FactorMatrix* factors, FactorVector* bias) {
  constexpr int kF1 = PlusOne(kF);
  using Vec = Eigen::Matrix<float, kF, 1>;
  using Vec1 = Eigen::Matrix<float, kF1, 1>;
  using Mat1 = Eigen::Matrix<float, kF1, kF1>;
  const int f = static_cast<int>(other.cols());
  const float* y_data = other.data();
  Mat1 a(f + 1, f + 1);
  Vec1 b(f + 1), z(f + 1);
  Eigen::LLT<Mat1> llt(f + 1);
  for (int64_t u = begin; u < end; ++u) {
    const CsrMatrix::Row row = ratings.row(u);
    Eigen::Map<Vec> x(factors->data() + u * f, f);
    if (row.size() == 0) {
      x.setZero();
      (*bias)(u) = 0.0f;
      continue;
    }
    a.setZero();
    b.setZero();
    // Top-left F x F block: sum y y^T (lower triangle); last row: sum y^T;
    // corner: count. b = sum t [y, 1].
    auto yy = a.template topLeftCorner<kF, kF>(f, f);
    auto last_row = a.template bottomLeftCorner<1, kF>(1, f);
    auto b_head = b.template head<kF>(f);
    float target_sum = 0.0f;
    for (size_t k = 0; k < row.size(); ++k) {
      const uint32_t i = row.indices[k];
      const Eigen::Map<const Vec> y(y_data + static_cast<int64_t>(i) * f, f);
      const float t = row.values[k] - global_mean - other_bias(i);
      yy.template selfadjointView<Eigen::Lower>().rankUpdate(y, 1.0f);
      last_row += y.transpose();
      b_head += t * y;
      target_sum += t;
    }
    a(f, f) = static_cast<float>(row.size());
    b(f) = target_sum;
    a.diagonal().array() += regularization;
    llt.compute(a);  // reads the lower triangle only
    if (llt.info() != Eigen::Success) continue;
    z = llt.solve(b);
    x = z.template head<kF>(f);
    (*bias)(u) = z(f);
  }
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

void UpdateExplicit(const CsrMatrix& ratings, const FactorMatrix& other,
                    const FactorVector& other_bias, float global_mean,
                    float regularization, int threads, FactorMatrix* factors,
                    FactorVector* bias) {
  const int64_t rows = ratings.rows();
  const int64_t chunk =
      std::clamp<int64_t>(rows / (static_cast<int64_t>(threads) * 64), 8, 256);
  DispatchFactors(static_cast<int>(other.cols()), [&](auto size) {
    constexpr int kF = decltype(size)::value;
    ParallelFor(rows, threads, chunk, [&](int64_t begin, int64_t end, int) {
      ExplicitRows<kF>(ratings, other, other_bias, global_mean,
                       regularization, begin, end, factors, bias);
    });
  });
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
