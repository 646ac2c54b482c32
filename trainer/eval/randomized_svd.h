// Top right singular vectors and values of a sparse matrix R (rows x cols,
// CSR) by randomized subspace iteration (Halko, Martinsson, Tropp 2011,
// "Finding structure with randomness", Algorithms 4.3/4.4 and 5.1), worked
// on the item side only:
//   X_0 = orth(Omega), Omega a cols x l Gaussian block drawn from `seed`;
//         l = rank + oversampling rounded up to a multiple of 16, at most
//         cols (and at least rank);
//   X_j = orth(R^T R X_{j-1})             for j = 1..q (power_iterations);
//   Rayleigh-Ritz: G = (R X_q)^T (R X_q) = P Lambda P^T (l x l),
//   V = X_q P (the `rank` largest), sigma = sqrt(Lambda).
// The R^T R products stream the CSR once each (SparseGramProduct) in single
// precision: they only steer the basis, and every iteration starts again
// from an orthonormal double basis, so rounding does not accumulate. G is
// gathered in double (ProjectedGram), so sigma and V are as accurate as the
// subspace span(X_q) allows. orth() is CholeskyQR2 in double with a
// Householder fallback (Orthonormalize). Nothing of size rows x l is
// stored: memory is a few cols x l blocks (one more float block per extra
// thread), whatever the number of users.
//
// Accuracy: direction i of the basis converges at the rate
// (sigma_{l+1} / sigma_i)^(2q) (Halko et al., Sec. 10.4; Saad), so the
// leading factors are exact to rounding and the last ones carry an error
// that shrinks with oversampling and power iterations; Ritz values are
// lower bounds of the singular values. When l reaches cols the basis is the
// whole item space and the result is exact to rounding. Figures on real
// data are in pure_svd.h.
//
// Deterministic for a given (seed, threads); other thread counts agree to
// rounding. Thread-safe: no shared state. Preconditions (checked by the
// caller): 1 <= rank < min(rows, cols), oversampling and power_iterations
// >= 0, threads >= 1, finite values. Allocation failure throws
// std::bad_alloc.
#ifndef AFFINITY_TRAINER_EVAL_RANDOMIZED_SVD_H_
#define AFFINITY_TRAINER_EVAL_RANDOMIZED_SVD_H_

#include <cstdint>
#include <vector>

#include "trainer/data/csr.h"
#include "trainer/eval/dense_block.h"

namespace affinity {
namespace eval {

struct RandomizedSvdOptions {
  int rank = 64;
  // Basis columns beyond rank (before rounding l up to a multiple of 16).
  int oversampling = 64;
  // q: R^T R products with re-orthonormalisation before Rayleigh-Ritz.
  int power_iterations = 5;
  uint64_t seed = 1;
  int threads = 1;
};

struct RightSingularPairs {
  DenseBlock vectors;          // cols x rank, orthonormal columns
  std::vector<double> values;  // rank values, descending, >= 0
  int block_columns = 0;       // l
  // Orthonormalisations that needed the Householder fallback.
  int householder_fallbacks = 0;
};

RightSingularPairs RandomizedRightSingular(const CsrMatrix& r,
                                           const RandomizedSvdOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_RANDOMIZED_SVD_H_
