#include "trainer/als/gramian.h"

#include <vector>

#include "trainer/als/parallel_for.h"

namespace affinity {

Eigen::MatrixXf Gramian(const FactorMatrix& factors, float diagonal_shift,
                        int threads) {
  constexpr int64_t kBlockRows = 4096;
  const int64_t n = factors.rows();
  const int64_t f = factors.cols();
  std::vector<Eigen::MatrixXf> partial(NumChunks(n, kBlockRows));
  ParallelFor(n, threads, kBlockRows, [&](int64_t begin, int64_t end, int) {
    Eigen::MatrixXf& p = partial[begin / kBlockRows];
    p.setZero(f, f);
    p.selfadjointView<Eigen::Lower>().rankUpdate(
        factors.middleRows(begin, end - begin).transpose());
  });
  Eigen::MatrixXf total = Eigen::MatrixXf::Zero(f, f);
  for (const Eigen::MatrixXf& p : partial) total += p;
  total.triangularView<Eigen::StrictlyUpper>() = total.transpose();
  total.diagonal().array() += diagonal_shift;
  return total;
}

}  // namespace affinity
