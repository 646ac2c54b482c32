// The most-popular baseline: every user is offered the items with the most
// training users (stored entries per column of the training matrix), ties
// to the lower item index, minus the user's own training items. Evaluated
// with the same users, exclusion and metrics as a factor model.
#ifndef AFFINITY_TRAINER_EVAL_POPULARITY_EVAL_H_
#define AFFINITY_TRAINER_EVAL_POPULARITY_EVAL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/data/csr.h"
#include "trainer/eval/eval_options.h"
#include "trainer/eval/metrics.h"

namespace affinity {
namespace eval {

// All item indices of `train`, most training users first, ties by lower
// index.
std::vector<uint32_t> PopularityOrder(const CsrMatrix& train);

// train and test of the same shape, else InvalidArgument.
absl::StatusOr<RankingMetrics> EvaluatePopularity(const CsrMatrix& train,
                                                  const CsrMatrix& test,
                                                  const EvalOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_POPULARITY_EVAL_H_
