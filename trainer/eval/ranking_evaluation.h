// The evaluation loop shared by every recommender: picks the evaluated
// users (users with held-out items, optionally a seeded sample), has a
// ranker produce each user's top-k list of items outside the user's
// training items, and averages the metrics of metrics.h.
//
// Users are cut into consecutive blocks of EvalOptions.user_block, which
// worker threads take in turn; per-user metrics are summed in user order
// afterwards, so results are bit-identical for any thread count. With
// EvalOptions.keep_per_user the result also holds the evaluated users and
// their metrics in that order.
#ifndef AFFINITY_TRAINER_EVAL_RANKING_EVALUATION_H_
#define AFFINITY_TRAINER_EVAL_RANKING_EVALUATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "trainer/data/csr.h"
#include "trainer/eval/eval_options.h"
#include "trainer/eval/metrics.h"

namespace affinity {
namespace eval {

// Produces top-k lists for blocks of users. Each worker thread owns one
// instance (so instances may keep scratch buffers) and calls it from that
// thread only.
class BlockRanker {
 public:
  virtual ~BlockRanker() = default;

  // For each users[b] (at most EvalOptions.user_block of them), sets
  // (*ranked)[b] to at most k item indices, best first, none of them in
  // train.row(users[b]). *ranked has users.size() entries on entry,
  // holding whatever the previous call left there.
  virtual void RankBlock(absl::Span<const int64_t> users, int k,
                         std::vector<std::vector<uint32_t>>* ranked) = 0;
};

using BlockRankerFactory = std::function<std::unique_ptr<BlockRanker>()>;

// train and test: users x items, same shape (InvalidArgument otherwise, or
// when options are invalid). `new_ranker` is called once per worker.
absl::StatusOr<RankingMetrics> EvaluateRankings(
    const CsrMatrix& train, const CsrMatrix& test, const EvalOptions& options,
    const BlockRankerFactory& new_ranker);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_RANKING_EVALUATION_H_
