// PureSVD baseline (Cremonesi, Koren, Turrin 2010): the top-f truncated SVD
// of the user-item training matrix R ~= U S V^T scores user u for item i by
// (r_u V V^T)_i, the projection of the user's training row onto the top-f
// right singular subspace. It is returned as a factor model,
//   users = R V  (rows x f),  items = V  (cols x f),
// so that users.row(u) . items.row(i) is that score and EvaluateFactorModel
// ranks it like any other model. The matrix values are used as they are
// (weights or ratings; no centering, no normalization, missing = 0).
//
// Solvers (PureSvdOptions.solver):
//  - kRandomized (default): randomized subspace iteration on the item side
//    (randomized_svd.h): a Gaussian start block of l = f + oversampling
//    columns (rounded up to a multiple of 16; 128 for the defaults f = 64,
//    oversampling = 64), q = power_iterations products with R^T R in single
//    precision, each followed by CholeskyQR2 re-orthonormalisation in
//    double, then Rayleigh-Ritz on (R X)^T (R X) gathered in double. It
//    reads the CSR arrays as they are (no copy of R, no transpose) on
//    options.threads threads; memory is a few cols x l blocks plus one
//    cols x l float block per extra thread, independent of the user count.
//  - kSvds: arma::svds (a restarted Lanczos solver on the symmetric matrix
//    [0 R^T; R 0]) in double precision, the exact reference. It copies the
//    CSR arrays once into an arma::sp_mat (double values, 64-bit indices;
//    R's CSR is R^T's CSC, so no transpose), and svds builds the scaled
//    (rows + cols)-square symmetric matrix, about four more nnz-sized sparse
//    copies, plus a Lanczos basis of (rows + cols) x (2f + 1) doubles, on
//    one thread. Slow (minutes from 100k users on).
// users = R V is then computed from the CSR itself (float in, double sums)
// on options.threads threads.
//
// Speed and accuracy with the defaults (pure_svd_bench --compare_svds,
// f = 64, 20% random holdout, 2 threads on a 2-core machine shared with
// other jobs; medians of two runs):
//   set     users x items  train nnz  svds     randomized  sigma_f   cos^2
//   ML100K  943 x 1682     80k        1.75 s   0.14 s      2.5e-3    0.99701
//   S       100k x 20k     4.0M       136.6 s  4.7 s       8.6e-5    0.99999
//   L       500k x 100k    20M        -        18.3 s
// (sigma_f: relative error of the last singular value; cos^2: mean squared
// cosine of the principal angles between the two item subspaces, 1 when
// they are equal.) The rankings agree: precision@10 and ndcg@10 are equal
// to svds' at four decimals on S (0.1639, 0.2361) and within 0.0002 on
// ML100K (0.2891, 0.3487 against 0.2891, 0.3485, intervals +-0.013); the
// paired ndcg@10 difference is +0.0002 +-0.0022 on ML100K and
// -0.00000 +-0.00002 on S. Cheaper settings trade the tail of the
// subspace: oversampling 10 with q = 3 fits S in about 1 s, still within
// the intervals, but on ML100K its subspace is further off (cos^2 0.86,
// sigma_f 4.5% low).
//
// The factor count is capped: svds needs f < min(rows, cols), so options
// .factors above min(rows, cols) - 1 is lowered to that (for both solvers)
// and the effective count is returned in PureSvdFactors::factors.
//
// Errors: InvalidArgument for factors < 1, oversampling < 0,
// power_iterations < 0, threads < 0, a matrix with fewer than two rows or
// columns, no stored entries or a non-finite value; ResourceExhausted when
// an allocation fails; Internal when svds fails or Armadillo throws (its
// exceptions do not leave FitPureSvd). Deterministic: svds starts from a fixed-seed vector; the
// randomized solver from a Gaussian block drawn from options.seed, and
// gives the same factors on every run with the same seed and thread count
// (other thread counts agree to rounding). Thread-safe: no shared state.
#ifndef AFFINITY_TRAINER_EVAL_PURE_SVD_H_
#define AFFINITY_TRAINER_EVAL_PURE_SVD_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {
namespace eval {

enum class PureSvdSolver {
  kRandomized,  // randomized subspace iteration (default)
  kSvds,        // arma::svds, the exact reference
};

struct PureSvdOptions {
  // Requested rank f; >= 1, capped at min(rows, cols) - 1.
  int factors = 64;
  PureSvdSolver solver = PureSvdSolver::kRandomized;
  // kRandomized only: extra basis columns beyond f, power iterations q and
  // the seed of the Gaussian start block.
  int oversampling = 64;
  int power_iterations = 5;
  uint64_t seed = 1;
  // Worker threads of the randomized solver and of R V; 0 = one per
  // hardware thread.
  int threads = 0;
};

// "randomized" or "svds".
const char* PureSvdSolverName(PureSvdSolver solver);

struct PureSvdFactors {
  FactorMatrix users;  // R V, rows x factors
  FactorMatrix items;  // V, cols x factors
  // Effective rank after the cap.
  int factors = 0;
  // Singular values of R, largest first (factors of them).
  std::vector<double> singular_values;
  // Wall time of the fit: decomposition and R V.
  double seconds = 0;
  // The solver that produced the fit.
  PureSvdSolver solver = PureSvdSolver::kRandomized;
};

absl::StatusOr<PureSvdFactors> FitPureSvd(const CsrMatrix& train,
                                          const PureSvdOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_PURE_SVD_H_
