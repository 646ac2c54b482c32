// Products with R^T R for a sparse user-item matrix R (CSR, float values)
// and a dense block X (cols x l), without forming R^T R or R^T and without
// storing the rows x l block R X: each user's row y_u = r_u X is formed in
// turn and used at once.
//
// SparseGramProduct: R^T R X = sum_u r_u^T y_u, scattered into cols x l
// accumulators, in the precision of X. The users are split into fixed
// chunks handed to the workers statically; each worker scatters into its
// own accumulator, and the accumulators are added in worker order. The
// result is the same on every run with the same thread count; other thread
// counts agree to rounding (the order of the additions differs). Memory:
// one cols x l accumulator per worker beyond the first, at most 1 GiB in
// all (fewer workers are used when `threads` would need more).
//
// ProjectedGram: X^T R^T R X = sum_u y_u^T y_u (l x l), in double, gathers
// only; fixed user blocks whose partial sums are added in block order, so
// the result does not depend on the thread count.
//
// Preconditions (checked by the caller, not here): x.rows() == r.cols().
// Thread-safe for distinct outputs; no shared state.
#ifndef AFFINITY_TRAINER_EVAL_SPARSE_GRAM_PRODUCT_H_
#define AFFINITY_TRAINER_EVAL_SPARSE_GRAM_PRODUCT_H_

#include <Eigen/Core>

#include "trainer/data/csr.h"
#include "trainer/eval/dense_block.h"

namespace affinity {
namespace eval {

// Returns R^T R x (r.cols() x x.cols()), computed on `threads` >= 1 workers.
DenseBlock SparseGramProduct(const CsrMatrix& r, const DenseBlock& x,
                             int threads);
// The same in single precision throughout (half the memory traffic).
FloatBlock SparseGramProduct(const CsrMatrix& r, const FloatBlock& x,
                             int threads);

// Returns (R x)^T (R x), symmetric l x l, on `threads` >= 1 workers.
Eigen::MatrixXd ProjectedGram(const CsrMatrix& r, const DenseBlock& x,
                              int threads);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_SPARSE_GRAM_PRODUCT_H_
