// MicroBatcher: lets concurrent requests share one pass over the item
// matrix. The first query to arrive opens a batch and waits up to `window`
// (or until max_batch queries joined); every query that arrives meanwhile
// for the same Scorer joins it; the opener then scores all of them with one
// Scorer::TopKBatch call and hands each caller its own result. With a zero
// window, or a scorer that gains nothing from batches (HNSW), every query is
// scored on its caller's thread at once.
//
// Failures and deadlines: a batch whose scoring throws gives every query in
// it INTERNAL (nothing is thrown out of Score, nobody waits forever). A
// caller whose deadline passes stops waiting with DEADLINE_EXCEEDED: a query
// still being gathered is left out of its batch; one whose batch is already
// being scored is scored from the batch's own copy of it, so the caller's
// vector and sets may go as soon as Score returns. The opener, which scores
// the batch on its own thread, returns once that scoring ends (its own query
// is left out when its deadline passed while gathering). Thread-safe.
#ifndef AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
#define AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

struct MicroBatcherOptions {
  std::chrono::microseconds window{0};
  size_t max_batch = 32;
};

class MicroBatcher {
 public:
  explicit MicroBatcher(MicroBatcherOptions options);
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  // Blocks until the query is scored, fails, or `deadline` passes (the
  // request's deadline; max(): none). INTERNAL when scoring throws,
  // DEADLINE_EXCEEDED when the deadline passed first (also when it already
  // had on entry: nothing is scored then). `scorer` and `query` must stay
  // valid for the call only.
  absl::StatusOr<ScoringResult> Score(
      const Scorer& scorer, const ScoringQuery& query,
      std::chrono::system_clock::time_point deadline =
          std::chrono::system_clock::time_point::max());

  // Number of TopKBatch calls made and queries they scored (for
  // tests/metrics).
  size_t batches() const;
  size_t batched_queries() const;
  // Queries in the batch being gathered (0: none open).
  size_t gathering() const;

 private:
  struct Entry;
  struct Batch;
  // Waits on cv_ until `done` or `deadline` (nullopt: no deadline); true
  // when done.
  template <typename Done>
  bool WaitUntil(std::unique_lock<std::mutex>& lock,
                 std::optional<std::chrono::steady_clock::time_point> deadline, Done done);
  // Scores the non-abandoned entries of a closed batch (mu_ not held) and
  // returns the batch's status.
  static absl::Status ScoreBatch(const Scorer& scorer, Batch& batch);

  MicroBatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Batch> open_;  // guarded by mu_
  size_t batches_ = 0;           // guarded by mu_
  size_t batched_queries_ = 0;   // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
