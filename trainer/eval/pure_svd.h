// PureSVD baseline (Cremonesi, Koren, Turrin 2010): the top-f truncated SVD
// of the user-item training matrix R ~= U S V^T scores user u for item i by
// (r_u V V^T)_i, the projection of the user's training row onto the top-f
// right singular subspace. It is returned as a factor model,
//   users = R V  (rows x f),  items = V  (cols x f),
// so that users.row(u) . items.row(i) is that score and EvaluateFactorModel
// ranks it like any other model. The matrix values are used as they are
// (weights or ratings; no centering, no normalization, missing = 0).
//
// Computation: arma::svds (a restarted Lanczos solver on the symmetric
// matrix [0 R^T; R 0]) in double precision. Copies, and why:
//  - the CSR arrays are copied once into an arma::sp_mat, because Armadillo
//    stores double values and 64-bit indices while CsrMatrix holds float
//    and 32-bit ones. The user-major CSR of R is exactly the CSC layout of
//    R^T (items x users), so the arrays are copied as they are, with no
//    transpose or sort, and the SVD is taken of R^T (whose left singular
//    vectors are V);
//  - svds itself builds the scaled (rows + cols)-square symmetric matrix
//    above, about four more nnz-sized sparse copies while it runs, plus a
//    Lanczos basis of (rows + cols) x (2f + 1) doubles.
// users = R V is then computed from the CSR itself (float in, double sums).
//
// The factor count is capped: svds needs f < min(rows, cols), so options
// .factors above min(rows, cols) - 1 is lowered to that and the effective
// count is returned in PureSvdFactors::factors.
//
// Errors: InvalidArgument for factors < 1, a matrix with fewer than two rows
// or columns, no stored entries or a non-finite value; Internal when the
// decomposition fails or Armadillo throws (its exceptions do not leave
// FitPureSvd). The result is deterministic (Armadillo's solver starts from a
// fixed-seed vector). Thread-safe: no shared state; runs on the calling
// thread (BLAS may use more).
#ifndef AFFINITY_TRAINER_EVAL_PURE_SVD_H_
#define AFFINITY_TRAINER_EVAL_PURE_SVD_H_

#include <vector>

#include "absl/status/statusor.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {
namespace eval {

struct PureSvdOptions {
  // Requested rank f; >= 1, capped at min(rows, cols) - 1.
  int factors = 64;
};

struct PureSvdFactors {
  FactorMatrix users;  // R V, rows x factors
  FactorMatrix items;  // V, cols x factors
  // Effective rank after the cap.
  int factors = 0;
  // Singular values of R, largest first (factors of them).
  std::vector<double> singular_values;
  // Wall time of the fit: copy, decomposition and R V.
  double seconds = 0;
};

absl::StatusOr<PureSvdFactors> FitPureSvd(const CsrMatrix& train,
                                          const PureSvdOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_PURE_SVD_H_
