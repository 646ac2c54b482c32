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
#ifndef AFFINITY_TRAINER_EVAL_METRICS_H_
#define AFFINITY_TRAINER_EVAL_METRICS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

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

  // Flat name -> value map for a metrics JSON file and for
  // ModelMetadata.metrics: "<prefix>precision_at_<k>", "..recall_at_<k>",
  // "..ndcg_at_<k>", "..map_at_<k>", "..coverage_at_<k>" and
  // "<prefix>users_evaluated". E.g. prefix "popularity." gives
  // "popularity.ndcg_at_10".
  std::map<std::string, double> ToMap(absl::string_view prefix = "") const;
};

// Sums per-user metrics in the order they are added, so a fixed order of
// users gives bit-identical results.
class RankingMetricsSum {
 public:
  void Add(const UserRankingMetrics& user);
  // Means over the added users; coverage = covered_items / num_items (0 when
  // num_items is 0).
  RankingMetrics Finish(int k, int64_t covered_items, int64_t num_items) const;

 private:
  int64_t users_ = 0;
  double precision_ = 0;
  double recall_ = 0;
  double ndcg_ = 0;
  double average_precision_ = 0;
};

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_METRICS_H_
