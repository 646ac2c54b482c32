// Dense factor matrices: one row per user or item, row-major float32, so a
// row is one contiguous vector that solvers and scorers map without copying.
#ifndef AFFINITY_TRAINER_ALS_FACTORS_H_
#define AFFINITY_TRAINER_ALS_FACTORS_H_

#include <Eigen/Core>

namespace affinity {

using FactorMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FactorVector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_FACTORS_H_
