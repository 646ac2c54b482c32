#include "trainer/eval/orthonormalize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <Eigen/QR>

#include "trainer/als/parallel_for.h"

namespace affinity {
namespace eval {
namespace {

constexpr int64_t kBlockRows = 4096;

// X^T X, from fixed row blocks added in block order.
Eigen::MatrixXd Gram(const DenseBlock& x, int threads) {
  const int64_t l = x.cols();
  std::vector<Eigen::MatrixXd> partial(NumChunks(x.rows(), kBlockRows));
  ParallelFor(x.rows(), threads, kBlockRows,
              [&](int64_t begin, int64_t end, int) {
                Eigen::MatrixXd& p = partial[begin / kBlockRows];
                p.setZero(l, l);
                p.selfadjointView<Eigen::Lower>().rankUpdate(
                    x.middleRows(begin, end - begin).transpose());
              });
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(l, l);
  for (const Eigen::MatrixXd& p : partial) total += p;
  total.triangularView<Eigen::StrictlyUpper>() = total.transpose();
  return total;
}

// X <- X m, row block by row block.
void MultiplyInPlace(DenseBlock* x, const Eigen::MatrixXd& m, int threads) {
  ParallelFor(x->rows(), threads, kBlockRows,
              [&](int64_t begin, int64_t end, int) {
                DenseBlock product = x->middleRows(begin, end - begin) * m;
                x->middleRows(begin, end - begin) = product;
              });
}

// One Cholesky QR pass; false (x untouched) when G is not safely positive
// definite.
bool CholeskyQrPass(DenseBlock* x, int threads, Eigen::MatrixXd* gram) {
  *gram = Gram(*x, threads);
  const Eigen::LLT<Eigen::MatrixXd> llt(*gram);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd lower = llt.matrixL();
  const Eigen::VectorXd diagonal = lower.diagonal();
  if (!(diagonal.minCoeff() > 1e-6 * diagonal.maxCoeff())) return false;
  // L^-T, upper triangular.
  const Eigen::MatrixXd inverse_transpose =
      lower.triangularView<Eigen::Lower>()
          .solve(Eigen::MatrixXd::Identity(x->cols(), x->cols()))
          .transpose();
  MultiplyInPlace(x, inverse_transpose, threads);
  return true;
}

void HouseholderOrthonormalize(DenseBlock* x) {
  const Eigen::MatrixXd column_major = *x;
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(column_major);
  *x = qr.householderQ() * Eigen::MatrixXd::Identity(x->rows(), x->cols());
}

}  // namespace

bool Orthonormalize(DenseBlock* x, int threads) {
  threads = std::max(threads, 1);
  const DenseBlock original = *x;
  Eigen::MatrixXd gram;
  if (CholeskyQrPass(x, threads, &gram) && CholeskyQrPass(x, threads, &gram)) {
    // The second pass started from nearly orthonormal columns.
    const double drift =
        (gram - Eigen::MatrixXd::Identity(x->cols(), x->cols()))
            .cwiseAbs()
            .maxCoeff();
    if (drift < 0.5) return true;
  }
  *x = original;
  HouseholderOrthonormalize(x);
  return false;
}

}  // namespace eval
}  // namespace affinity
