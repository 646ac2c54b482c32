// Top-k ranking metrics of recommendation lists against held-out items.
//
// For one user with ranked list R (best first, at most k items, the user's
// training items already removed) and held-out set H (|H| >= 1), with
// hit(i) = 1 when R[i] is in H (ranks i = 0, 1, ... k-1):
//
//   hits          = sum_i hit(i)
//   precision@k   = hits / k        (k even when R holds fewer than k items)
//   recall@k      = hits / |H|      (all held-out items, not min(k, |H|))
//   NDCG@k        = DCG / IDCG, DCG = sum_i hit(i) / log2(i + 2),
//                   IDCG = sum_{i < min(k, |H|)} 1 / log2(i + 2)
//   AP@k          = (sum_i hit(i) * hits_up_to_and_including(i) / (i + 1))
//                   / min(k, |H|)
//
// NDCG@k and AP@k are those of the Python `implicit` library's
// ranking_metrics_at_k (its "ndcg" and "map"); its "precision" differs
// from precision@k here (it is total hits / sum over users of min(k, |H|)).
// Held-out items that are also training items of the user can never be
// hit but still count in |H|, as in `implicit`.
//
// Over a set of evaluated users (the users with at least one held-out
// item, possibly sampled): precision, recall, ndcg and map are the plain
// means of the per-user values; coverage@k = number of distinct items in
// the union of the evaluated users' lists / number of items in the catalog.
// Each mean comes with the half-width of its 95% confidence interval, the
// normal approximation over the per-user values (moments.h): z * s / sqrt(n),
// s the sample standard deviation of the per-user values, n the users; 0
// when n < 2. Coverage, a property of the union, has none.
#ifndef AFFINITY_TRAINER_EVAL_METRICS_H_
#define AFFINITY_TRAINER_EVAL_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "trainer/eval/moments.h"

namespace affinity {
namespace eval {

struct UserRankingMetrics {
  int hits = 0;
  double precision = 0;
  double recall = 0;
  double ndcg = 0;
  double average_precision = 0;
};

// Scores one user's list. `ranked` holds at most k items, best first.
// `held_out` is sorted ascending, unique and non-empty. k >= 1.
UserRankingMetrics ScoreUserRanking(absl::Span<const uint32_t> ranked,
                                    absl::Span<const uint32_t> held_out,
                                    int k);

// Metrics of one model (or baseline) over the evaluated users. All rates
// are 0 when no user was evaluated.
struct RankingMetrics {
  int k = 0;
  int64_t users_evaluated = 0;
  double precision = 0;
  double recall = 0;
  double ndcg = 0;
  double map = 0;
  double coverage = 0;
  // 95% confidence half-widths of precision, recall, ndcg and map.
  double precision_ci95 = 0;
  double recall_ci95 = 0;
  double ndcg_ci95 = 0;
  double map_ci95 = 0;

  // Only with EvalOptions.keep_per_user: the evaluated users (row indices)
  // and their metrics, aligned, in evaluation order (ascending user index).
  // Evaluations with the same train and test matrices and the same
  // EvalOptions hold the same users in the same order, whatever the model,
  // so their per-user values can be paired (paired_comparison.h).
  std::vector<int64_t> users;
  std::vector<UserRankingMetrics> per_user;

  // Flat name -> value map for a metrics JSON file and for
  // ModelMetadata.metrics: "<prefix>precision_at_<k>", "..recall_at_<k>",
  // "..ndcg_at_<k>", "..map_at_<k>", "..coverage_at_<k>",
  // "<prefix>users_evaluated", and the half-widths
  // "<prefix>precision_at_<k>_ci95", "..recall_at_<k>_ci95",
  // "..ndcg_at_<k>_ci95", "..map_at_<k>_ci95". E.g. prefix "popularity."
  // gives "popularity.ndcg_at_10" and "popularity.ndcg_at_10_ci95".
  // Per-user values are not included.
  std::map<std::string, double> ToMap(absl::string_view prefix = "") const;
};

// Sums per-user metrics in the order they are added, so a fixed order of
// users gives bit-identical results.
class RankingMetricsSum {
 public:
  void Add(const UserRankingMetrics& user);
  // Means over the added users and their 95% half-widths; coverage =
  // covered_items / num_items (0 when num_items is 0). Per-user vectors are
  // left empty.
  RankingMetrics Finish(int k, int64_t covered_items, int64_t num_items) const;

 private:
  int64_t users_ = 0;
  // Plain sums for the means; running moments for the intervals.
  double precision_ = 0;
  double recall_ = 0;
  double ndcg_ = 0;
  double average_precision_ = 0;
  RunningMoments precision_moments_;
  RunningMoments recall_moments_;
  RunningMoments ndcg_moments_;
  RunningMoments average_precision_moments_;
};

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_METRICS_H_
