#include "trainer/eval/randomized_svd.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Eigenvalues>

#include "trainer/eval/orthonormalize.h"
#include "trainer/eval/sparse_gram_product.h"

namespace affinity {
namespace eval {
namespace {

DenseBlock GaussianBlock(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  DenseBlock block(rows, cols);
  double* data = block.data();
  for (int64_t i = 0; i < rows * cols; ++i) data[i] = normal(rng);
  return block;
}

}  // namespace

RightSingularPairs RandomizedRightSingular(
    const CsrMatrix& r, const RandomizedSvdOptions& options) {
  const int threads = std::max(options.threads, 1);
  // A multiple of 16 columns: float rows of whole cache lines and whole
  // vector registers.
  const int64_t wanted = (static_cast<int64_t>(options.rank) +
                          std::max(options.oversampling, 0) + 15) /
                         16 * 16;
  const int64_t l = std::max<int64_t>(
      options.rank, std::min<int64_t>(wanted, r.cols()));

  RightSingularPairs out;
  out.block_columns = static_cast<int>(l);
  DenseBlock x = GaussianBlock(r.cols(), l, options.seed);
  if (!Orthonormalize(&x, threads)) ++out.householder_fallbacks;
  // Power iterations in single precision: they only steer the basis, and
  // each one starts from an orthonormal (double) basis again, so rounding
  // does not accumulate. The Rayleigh-Ritz Gram below is in double.
  for (int j = 0; j < options.power_iterations; ++j) {
    const FloatBlock basis = x.cast<float>();
    x = SparseGramProduct(r, basis, threads).cast<double>();
    if (!Orthonormalize(&x, threads)) ++out.householder_fallbacks;
  }
  const Eigen::MatrixXd projected = ProjectedGram(r, x, threads);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(projected);
  // Eigenvalues ascending: the top `rank` are the last columns, reversed.
  Eigen::MatrixXd top(l, options.rank);
  out.values.resize(options.rank);
  for (int c = 0; c < options.rank; ++c) {
    const int64_t source = l - 1 - c;
    top.col(c) = eigen.eigenvectors().col(source);
    out.values[c] = std::sqrt(std::max(eigen.eigenvalues()[source], 0.0));
  }
  out.vectors = x * top;
  return out;
}

}  // namespace eval
}  // namespace affinity
