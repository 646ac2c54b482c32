// MicroBatcher: lets concurrent requests share one pass over the item
// matrix. The first query to arrive opens a batch and waits up to `window`
// (or until max_batch queries joined); every query that arrives meanwhile
// for the same Scorer joins it; the opener then scores all of them with one
// Scorer::TopKBatch call and hands each caller its own result. With a zero
// window, or a scorer that gains nothing from batches (HNSW), every query is
// scored on its caller's thread at once.
#ifndef AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
#define AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

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

  // Blocks until the query is scored. `scorer` and `query` must outlive the
  // call (they do: the caller is blocked in it).
  ScoringResult Score(const Scorer& scorer, const ScoringQuery& query);

  // Number of TopKBatch calls made and queries they held (for tests/metrics).
  size_t batches() const;
  size_t batched_queries() const;

 private:
  struct Batch;
  MicroBatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Batch> open_;  // guarded by mu_
  size_t batches_ = 0;           // guarded by mu_
  size_t batched_queries_ = 0;   // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
