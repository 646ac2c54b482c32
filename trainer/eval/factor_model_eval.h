// Holdout evaluation of a factor model: the score of user u for item i is
// the inner product of row u of the user factors and row i of the item
// factors. Implicit ALS passes its factors as they are; explicit models
// pass vectors with their bias terms folded in (e.g. [x_u, b_u, 1] and
// [y_i, 1, b_i]) so that the inner product is the predicted rating.
//
// Scores are computed for blocks of EvalOptions.user_block users against
// tiles of EvalOptions.item_tile items with one float matrix-matrix product
// each; every user's k best items outside its training items (ties to the
// lower item index) are kept in a bounded heap across tiles. Metrics are
// those of metrics.h.
#ifndef AFFINITY_TRAINER_EVAL_FACTOR_MODEL_EVAL_H_
#define AFFINITY_TRAINER_EVAL_FACTOR_MODEL_EVAL_H_

#include "absl/status/statusor.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"
#include "trainer/eval/eval_options.h"
#include "trainer/eval/metrics.h"

namespace affinity {
namespace eval {

// user_factors: train.rows() x d; item_factors: train.cols() x d; train and
// test of the same shape. InvalidArgument names the mismatching dimension.
absl::StatusOr<RankingMetrics> EvaluateFactorModel(
    const FactorMatrix& user_factors, const FactorMatrix& item_factors,
    const CsrMatrix& train, const CsrMatrix& test, const EvalOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_FACTOR_MODEL_EVAL_H_
