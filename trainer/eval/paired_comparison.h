// Paired comparison of two models evaluated on the same units: per-user
// ranking metrics of a candidate and the live model over the same
// evaluated users, or per-rating errors over the same held-out ratings.
//
// For values a and b of equal length n, with differences d = a - b:
//   mean_difference = mean(d),
//   ci95            = z * sd(d) / sqrt(n)   (moments.h; 0 when n < 2),
//   p_value         = two-sided normal approximation of the paired
//                     differences: 2 * (1 - Phi(|mean(d)| / (sd(d) /
//                     sqrt(n)))) = erfc(|t| / sqrt(2)).
// Degenerate cases: n < 2 gives p_value 1 (no evidence); sd(d) = 0 with
// n >= 2 gives p_value 1 when mean(d) = 0 and 0 otherwise. The normal
// approximation assumes n is large enough for the mean to be normal (the
// nightly gate compares thousands of users).
//
// Metric names and which direction is better:
//   "precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k": higher is
//     better (a positive difference favours a);
//   "rmse", "mae": lower is better (a negative difference favours a). Their
//     per-unit values are the squared errors ("rmse": the comparison is of
//     the mean squared error) and the absolute errors ("mae").
// Errors are absl::Status: InvalidArgument for an unknown metric name or
// values of different lengths, FailedPrecondition for results evaluated
// without per-unit values or over different users.
#ifndef AFFINITY_TRAINER_EVAL_PAIRED_COMPARISON_H_
#define AFFINITY_TRAINER_EVAL_PAIRED_COMPARISON_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "trainer/eval/metrics.h"
#include "trainer/eval/rating_metrics.h"

namespace affinity {
namespace eval {

struct PairedComparison {
  int64_t n = 0;
  double mean_a = 0;
  double mean_b = 0;
  // mean(a - b) and the 95% half-width of its confidence interval.
  double mean_difference = 0;
  double ci95 = 0;
  double p_value = 1;
};

// a and b: the same units in the same order, equal lengths (else
// InvalidArgument). Empty inputs give n = 0, p_value 1.
absl::StatusOr<PairedComparison> ComparePaired(absl::Span<const double> a,
                                               absl::Span<const double> b);

enum class MetricDirection { kHigherIsBetter, kLowerIsBetter };

// The direction of one of the metric names above, else InvalidArgument.
absl::StatusOr<MetricDirection> DirectionOf(absl::string_view metric);

// The per-user values of "precision_at_k", "recall_at_k", "ndcg_at_k" or
// "map_at_k" out of a result evaluated with EvalOptions.keep_per_user, in
// its user order. InvalidArgument for another name; FailedPrecondition when
// the result has evaluated users but holds no per-user values.
absl::StatusOr<std::vector<double>> PerUserValues(const RankingMetrics& result,
                                                  absl::string_view metric);

// ComparePaired of a's and b's per-user values of `metric` after checking
// that both evaluated the same users in the same order (FailedPrecondition
// otherwise).
absl::StatusOr<PairedComparison> CompareRankings(const RankingMetrics& a,
                                                 const RankingMetrics& b,
                                                 absl::string_view metric);

// ComparePaired of a's and b's per-rating errors: squared errors for
// "rmse", absolute errors for "mae" (InvalidArgument for another name).
// Both must have been evaluated with RatingEvalOptions.keep_errors on the
// same test matrix (FailedPrecondition when errors are missing or their
// counts differ).
absl::StatusOr<PairedComparison> CompareRatings(const RatingMetrics& a,
                                                const RatingMetrics& b,
                                                absl::string_view metric);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_PAIRED_COMPARISON_H_
