// Orthonormal basis of the column space of a tall dense block, in place.
//
// Method: Cholesky QR twice (CholeskyQR2; Fukaya et al. 2014): G = X^T X,
// G = L L^T, X <- X L^-T, repeated once so that the columns are orthonormal
// to rounding even when the first pass lost some orthogonality. Both passes
// are Gram products and a multiplication by a small l x l matrix, blocked
// over rows on `threads` workers. When the block is too ill-conditioned for
// this (a Cholesky factor fails or its diagonal spans more than 1e6, or the
// second Gram is far from the identity, e.g. for a rank-deficient block),
// it falls back to Householder QR, which always returns orthonormal
// columns (spanning the column space plus arbitrary directions when the
// rank is short).
//
// Deterministic: the result does not depend on `threads` (row blocks are
// fixed and their partial Grams are added in block order). Requires
// x->rows() >= x->cols() >= 1 (checked by the caller). Thread-safe for
// distinct blocks.
#ifndef AFFINITY_TRAINER_EVAL_ORTHONORMALIZE_H_
#define AFFINITY_TRAINER_EVAL_ORTHONORMALIZE_H_

#include "trainer/eval/dense_block.h"

namespace affinity {
namespace eval {

// Replaces *x (n x l) by n x l orthonormal columns spanning its column
// space. Returns false when the Householder fallback was used.
bool Orthonormalize(DenseBlock* x, int threads);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_ORTHONORMALIZE_H_
