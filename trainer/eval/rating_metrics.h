// Rating accuracy of an explicit model on held-out ratings: the prediction
// for (u, i) is the inner product of row u of the user factors and row i of
// the item factors (explicit ALS folds its biases into the vectors, see
// factor_model_eval.h), and each stored entry of the test matrix is a
// held-out rating r_ui with error e = prediction - r_ui.
//
//   RMSE = sqrt(mean(e^2)),  MAE = mean(|e|),  over every held-out entry
//   (no user sampling).
//
// 95% confidence intervals (half-widths), normal approximation over the
// entries (moments.h: z * s / sqrt(n), 0 when n < 2):
//   mae_ci95  = z * sd(|e|) / sqrt(n);
//   rmse_ci95 = delta method on MSE = mean(e^2): z * sd(e^2) / sqrt(n),
//               times d sqrt(MSE) / d MSE = 1 / (2 RMSE)  (0 when RMSE = 0).
//
// Entries are cut into blocks of RatingEvalOptions.user_block users, which
// worker threads take in turn; each block's moments are merged in block
// order afterwards, so results are bit-identical for any thread count.
// The factor matrices and the test matrix are only read; errors are
// absl::Status, never exceptions.
#ifndef AFFINITY_TRAINER_EVAL_RATING_METRICS_H_
#define AFFINITY_TRAINER_EVAL_RATING_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {
namespace eval {

struct RatingMetrics {
  int64_t ratings_evaluated = 0;
  // All 0 when no rating was evaluated.
  double rmse = 0;
  double mae = 0;
  double rmse_ci95 = 0;
  double mae_ci95 = 0;
  // Only with RatingEvalOptions.keep_errors: e^2 and |e| per held-out
  // entry, in the order of the test matrix's entries (row by row, by column
  // within a row), so that two models evaluated on the same test matrix
  // can be compared entry by entry (paired_comparison.h).
  std::vector<double> squared_errors;
  std::vector<double> absolute_errors;

  // "<prefix>rmse", "<prefix>mae", "<prefix>rmse_ci95", "<prefix>mae_ci95"
  // and "<prefix>ratings_evaluated", like RankingMetrics::ToMap.
  std::map<std::string, double> ToMap(absl::string_view prefix = "") const;
};

struct RatingEvalOptions {
  // Worker threads; >= 1. Results do not depend on it.
  int threads = 1;
  // Users per unit of work; >= 1.
  int user_block = 1024;
  // Keep the per-entry errors in the result (16 bytes per entry).
  bool keep_errors = false;
};

// user_factors: test.rows() x d; item_factors: test.cols() x d.
// InvalidArgument names the mismatching dimension or the bad option.
absl::StatusOr<RatingMetrics> EvaluateRatings(const FactorMatrix& user_factors,
                                              const FactorMatrix& item_factors,
                                              const CsrMatrix& test,
                                              const RatingEvalOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_RATING_METRICS_H_
