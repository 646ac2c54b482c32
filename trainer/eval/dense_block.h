// Dense blocks of the randomized SVD: row-major double matrices with one
// item per row, so that sparse products read and write a row as one
// contiguous vector. A type alias only; no state, no errors.
#ifndef AFFINITY_TRAINER_EVAL_DENSE_BLOCK_H_
#define AFFINITY_TRAINER_EVAL_DENSE_BLOCK_H_

#include <Eigen/Core>

namespace affinity {
namespace eval {

using DenseBlock =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FloatBlock =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_DENSE_BLOCK_H_
