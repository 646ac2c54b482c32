// The baselines every evaluation reports beside a model: most-popular and
// PureSVD (trainer/eval/pure_svd.h), on the same held-out interactions and
// the same users. A PureSVD fit that fails (e.g. a matrix too small) is
// reported and skipped, never fatal.
#ifndef AFFINITY_TRAINER_BASELINES_H_
#define AFFINITY_TRAINER_BASELINES_H_

#include <optional>
#include <ostream>

#include "absl/status/statusor.h"
#include "trainer/data/csr.h"
#include "trainer/eval/eval_options.h"
#include "trainer/eval/metrics.h"
#include "trainer/eval/pure_svd.h"

namespace affinity {

struct BaselineResults {
  eval::RankingMetrics popularity;
  std::optional<eval::RankingMetrics> puresvd;  // unset when skipped
  int puresvd_factors = 0;
  double puresvd_fit_seconds = 0;
};

// puresvd.factors 0 skips PureSVD. Logs the PureSVD fit (solver, rank,
// time), or why it was skipped.
absl::StatusOr<BaselineResults> EvaluateBaselines(const CsrMatrix& train, const CsrMatrix& test,
                                                  const eval::EvalOptions& options,
                                                  const eval::PureSvdOptions& puresvd,
                                                  std::ostream& log);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_BASELINES_H_
