// One half-iteration of explicit-rating ALS with biases, and its error.
//
// Model: r_ui ~ mu + b_u + b_i + x_u . y_i over the stored ratings only.
// For every row u of `ratings`, [x_u, b_u] is set to the exact minimiser of
//   sum_{i in u} (r_ui - mu - b_i - [x_u, b_u] . [y_i, 1])^2
//       + reg (|x_u|^2 + b_u^2)
// by an LLT solve of the (F+1) x (F+1) normal equations, y_i and b_i held
// fixed (the item side is the same call on the transposed ratings). Rows
// with no ratings get x_u = 0, b_u = 0. A row whose factorization fails
// (only possible when reg is lost to rounding against a singular system)
// keeps its previous [x_u, b_u] and is counted. Per-row work is
// independent, so results do not depend on the thread count.
#ifndef AFFINITY_TRAINER_ALS_EXPLICIT_UPDATE_H_
#define AFFINITY_TRAINER_ALS_EXPLICIT_UPDATE_H_

#include <cstdint>

#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {

// reg must be > 0 (the systems are then positive definite). Returns the
// number of rows whose solve failed and that kept their previous values.
int64_t UpdateExplicit(const CsrMatrix& ratings, const FactorMatrix& other,
                    const FactorVector& other_bias, float global_mean,
                    float regularization, int threads, FactorMatrix* factors,
                    FactorVector* bias);

// Sum over stored ratings of (r_ui - mu - b_u - b_i - x_u . y_i)^2, in
// double, summed in a thread-count-independent order.
double ExplicitSquaredError(const CsrMatrix& ratings,
                            const FactorMatrix& user_factors,
                            const FactorVector& user_bias,
                            const FactorMatrix& item_factors,
                            const FactorVector& item_bias, float global_mean,
                            int threads);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_EXPLICIT_UPDATE_H_
