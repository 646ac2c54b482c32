#include "trainer/baselines.h"

#include "absl/strings/str_format.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/popularity_eval.h"
#include "trainer/eval/pure_svd.h"

namespace affinity {

absl::StatusOr<BaselineResults> EvaluateBaselines(const CsrMatrix& train, const CsrMatrix& test,
                                                  const eval::EvalOptions& options,
                                                  const eval::PureSvdOptions& puresvd,
                                                  std::ostream& log) {
  BaselineResults out;
  auto popularity = eval::EvaluatePopularity(train, test, options);
  if (!popularity.ok()) return popularity.status();
  out.popularity = *std::move(popularity);
  if (puresvd.factors <= 0) return out;
  auto svd = eval::FitPureSvd(train, puresvd);
  if (!svd.ok()) {
    log << "PureSVD baseline skipped: " << svd.status().message() << "\n";
    return out;
  }
  out.puresvd_factors = svd->factors;
  out.puresvd_fit_seconds = svd->seconds;
  log << absl::StrFormat("PureSVD baseline: %d factors fitted in %.2f s (%s)\n", svd->factors,
                         svd->seconds, eval::PureSvdSolverName(svd->solver));
  auto metrics = eval::EvaluateFactorModel(svd->users, svd->items, train, test, options);
  if (!metrics.ok()) return metrics.status();
  out.puresvd = *std::move(metrics);
  return out;
}

}  // namespace affinity
