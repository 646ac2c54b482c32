#include "trainer/eval/sparse_gram_product.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "trainer/als/parallel_for.h"

namespace affinity {
namespace eval {
namespace {

constexpr int64_t kUserChunk = 512;
constexpr int64_t kItemChunk = 4096;
constexpr int64_t kAhead = 8;
constexpr int64_t kAccumulatorBytes = int64_t{1} << 30;
// ProjectedGram: users per partial Gram, and per block of y rows.
constexpr int64_t kGramUsers = 8192;
constexpr int64_t kYBlock = 256;

template <typename Scalar>
inline void PrefetchRow(const Scalar* row, int64_t l, int write) {
  const char* p = reinterpret_cast<const char*>(row);
  const int64_t bytes = l * static_cast<int64_t>(sizeof(Scalar));
  for (int64_t offset = 0; offset < bytes; offset += 64) {
    if (write) {
      __builtin_prefetch(p + offset, 1, 3);
    } else {
      __builtin_prefetch(p + offset, 0, 3);
    }
  }
}

template <typename Block>
Block GramProduct(const CsrMatrix& r, const Block& x, int threads) {
  using Scalar = typename Block::Scalar;
  const int64_t l = x.cols();
  // Accumulators beyond the first stay within kAccumulatorBytes in all.
  const int64_t block_bytes =
      std::max<int64_t>(1, r.cols() * l * static_cast<int64_t>(sizeof(Scalar)));
  const int64_t affordable = 1 + kAccumulatorBytes / block_bytes;
  const int workers = static_cast<int>(std::max<int64_t>(
      1, std::min({static_cast<int64_t>(std::max(threads, 1)), affordable,
                   NumChunks(r.rows(), kUserChunk)})));
  Block out = Block::Zero(r.cols(), l);
  // Worker 0 accumulates into `out` itself.
  std::vector<Block> extra(workers - 1);
  for (Block& a : extra) a.setZero(r.cols(), l);

  const Scalar* xdata = x.data();
  ParallelFor(
      r.rows(), workers, kUserChunk, Schedule::kStatic,
      [&](int64_t begin, int64_t end, int worker) {
        Block& acc = worker == 0 ? out : extra[worker - 1];
        Scalar* adata = acc.data();
        Eigen::Matrix<Scalar, 1, Eigen::Dynamic> y(l);
        for (int64_t u = begin; u < end; ++u) {
          const CsrMatrix::Row row = r.row(u);
          const int64_t n = static_cast<int64_t>(row.size());
          if (n == 0) continue;
          y.setZero();
          for (int64_t e = 0; e < n; ++e) {
            if (e + kAhead < n) {
              PrefetchRow(xdata + row.indices[e + kAhead] * l, l, 0);
            }
            y.noalias() += static_cast<Scalar>(row.values[e]) * x.row(row.indices[e]);
          }
          for (int64_t e = 0; e < n; ++e) {
            if (e + kAhead < n) {
              PrefetchRow(adata + row.indices[e + kAhead] * l, l, 1);
            }
            acc.row(row.indices[e]).noalias() +=
                static_cast<Scalar>(row.values[e]) * y;
          }
        }
      });
  if (!extra.empty()) {
    ParallelFor(r.cols(), workers, kItemChunk, Schedule::kStatic,
                [&](int64_t begin, int64_t end, int) {
                  for (const Block& a : extra) {
                    out.middleRows(begin, end - begin) +=
                        a.middleRows(begin, end - begin);
                  }
                });
  }
  return out;
}

}  // namespace

DenseBlock SparseGramProduct(const CsrMatrix& r, const DenseBlock& x,
                             int threads) {
  return GramProduct(r, x, threads);
}

FloatBlock SparseGramProduct(const CsrMatrix& r, const FloatBlock& x,
                             int threads) {
  return GramProduct(r, x, threads);
}

Eigen::MatrixXd ProjectedGram(const CsrMatrix& r, const DenseBlock& x,
                              int threads) {
  const int64_t l = x.cols();
  std::vector<Eigen::MatrixXd> partial(NumChunks(r.rows(), kGramUsers));
  const double* xdata = x.data();
  ParallelFor(
      r.rows(), std::max(threads, 1), kGramUsers,
      [&](int64_t begin, int64_t end, int) {
        Eigen::MatrixXd& g = partial[begin / kGramUsers];
        g.setZero(l, l);
        DenseBlock y(kYBlock, l);
        for (int64_t first = begin; first < end; first += kYBlock) {
          const int64_t count = std::min(kYBlock, end - first);
          y.topRows(count).setZero();
          for (int64_t k = 0; k < count; ++k) {
            const CsrMatrix::Row row = r.row(first + k);
            const int64_t n = static_cast<int64_t>(row.size());
            for (int64_t e = 0; e < n; ++e) {
              if (e + kAhead < n) {
                PrefetchRow(xdata + row.indices[e + kAhead] * l, l, 0);
              }
              y.row(k).noalias() +=
                  static_cast<double>(row.values[e]) * x.row(row.indices[e]);
            }
          }
          g.selfadjointView<Eigen::Lower>().rankUpdate(
              y.topRows(count).transpose());
        }
      });
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(l, l);
  for (const Eigen::MatrixXd& g : partial) total += g;
  total.triangularView<Eigen::StrictlyUpper>() = total.transpose();
  return total;
}

}  // namespace eval
}  // namespace affinity
