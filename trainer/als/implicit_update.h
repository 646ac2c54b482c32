// One half-iteration of implicit-feedback ALS (Hu, Koren & Volinsky 2008)
// and its objective.
//
// For every row u of `interactions` (weights w_ui >= 0) the solvers update
// x_u = factors->row(u) towards the minimiser of
//   sum_i c_ui (p_ui - x_u . y_i)^2 + reg |x_u|^2,
// with c_ui = 1 + alpha * w_ui, p_ui = 1 on stored entries and c = 1, p = 0
// everywhere else, y_i = other.row(i). That is the system
//   (Y^T Y + reg I + sum_{i in u} alpha w_ui y_i y_i^T) x_u
//       = sum_{i in u} (1 + alpha w_ui) y_i,
// where the caller passes gram = Y^T Y + reg I (see Gramian). Rows are read
// through CsrMatrix::Row spans and Eigen maps onto factor rows; nothing is
// gathered. Each row's computation depends only on that row, so results
// are identical for any thread count and schedule.
#ifndef AFFINITY_TRAINER_ALS_IMPLICIT_UPDATE_H_
#define AFFINITY_TRAINER_ALS_IMPLICIT_UPDATE_H_

#include <Eigen/Core>

#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {

// Conjugate gradient (Takacs, Pilaszy & Tikk 2011): cg_steps steps per row,
// warm-started from the current x_u; a row without entries gets its exact
// solution, 0. A p is evaluated as
// gram p + sum_{i in u} alpha w_ui (y_i . p) y_i, never forming the matrix.
void UpdateImplicitCg(const CsrMatrix& interactions, const FactorMatrix& other,
                      const Eigen::MatrixXf& gram, float alpha, int cg_steps,
                      int threads, FactorMatrix* factors);

// Exact solve: forms the F x F system per row and factors it with LLT.
// With reg > 0 every system is positive definite; a row whose factorization
// still fails (reg == 0 and rank-deficient factors) keeps its previous
// value, and the number of such rows is returned.
int64_t UpdateImplicitCholesky(const CsrMatrix& interactions,
                               const FactorMatrix& other,
                               const Eigen::MatrixXf& gram, float alpha,
                               int threads, FactorMatrix* factors);

// The full objective over all (u, i) pairs, observed or not:
//   sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2).
// Cost is one pass over the stored entries: with gram = Y^T Y + reg I,
//   sum_u x_u^T gram x_u = sum_{u,i} (x_u . y_i)^2 + reg |X|^2,
// and each stored entry then adds c (1 - s)^2 - s^2, s = x_u . y_i.
// Returned unnormalised, in double.
double ImplicitObjective(const CsrMatrix& interactions,
                         const FactorMatrix& user_factors,
                         const FactorMatrix& item_factors,
                         const Eigen::MatrixXf& gram_items, float alpha,
                         float regularization, int threads);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_IMPLICIT_UPDATE_H_
