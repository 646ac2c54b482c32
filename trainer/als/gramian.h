// Gramian of a factor matrix, the F x F matrix M^T M (+ reg * I) that every
// implicit half-iteration needs once. Computed from fixed row blocks whose
// partial products are added in block order, so the result is bitwise the
// same for any thread count.
#ifndef AFFINITY_TRAINER_ALS_GRAMIAN_H_
#define AFFINITY_TRAINER_ALS_GRAMIAN_H_

#include <Eigen/Core>

#include "trainer/als/factors.h"

namespace affinity {

// Returns factors^T * factors + diagonal_shift * I (symmetric, both
// triangles filled).
Eigen::MatrixXf Gramian(const FactorMatrix& factors, float diagonal_shift,
                        int threads);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_GRAMIAN_H_
