// MicroBatcher: lets concurrent requests share one pass over the item
// matrix, with batches that follow the load (no fixed wait).
//
// A query for a scorer that gains from batches (Scorer::BenefitsFromBatching)
// joins a queue. When no pass is running, a waiting caller whose scorer is
// that of the oldest queued query starts one at once on its own thread: it
// takes the oldest queued queries for its scorer, up to max_batch (its own
// among them unless older ones fill the pass: it then runs the next pass
// too), and scores them with one Scorer::TopKBatch call (TopK for one).
// Passes so serve the oldest query's scorer first: with two scorers in use
// (two model versions), a query for the one that gets few waits at most for
// the passes due before it, never for a stream of newer queries. Queries that arrive while
// a pass runs wait in the queue and are scored together by the next pass.
// So an idle server scores a lone query at once, and a busy one scores
// larger batches, one after another. Passes run one at a time (a pass uses
// the scorer's scan pool, see ExactScorer). `window` > 0 adds a gathering
// delay: a pass then starts once its oldest query has waited `window`, or
// earlier when max_batch queries are queued. With max_batch <= 1, and for
// scorers that gain nothing from batches (HNSW), every query is scored on
// its caller's thread at once.
//
// Failures and deadlines: a pass whose scoring throws gives every query in
// it INTERNAL (nothing is thrown out of Score, nobody waits forever). A
// caller whose deadline passes stops waiting with DEADLINE_EXCEEDED: a
// query still queued leaves the queue and is never scored (a pass also
// drops queued queries whose deadline passed before it began); one already
// in a pass is scored from the pass's own copy, so the caller's vector and
// sets may go as soon as Score returns. The caller that runs a pass returns
// when that pass ends, even when its own deadline passed during it.
// Thread-safe.
#ifndef AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
#define AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

// One pass, as reported to MicroBatcherOptions::on_pass.
struct PassStats {
  size_t queries = 0;    // scored together
  double seconds = 0;    // scoring time of the pass
};

struct MicroBatcherOptions {
  // Gathering delay: a pass starts once its oldest query waited this long
  // (or max_batch are queued). 0: passes start as soon as the previous one
  // ends (batching by load alone).
  std::chrono::microseconds window{0};
  // Largest number of queries in one pass; <= 1: no batching.
  size_t max_batch = 32;
  // Called after every pass, on the thread that ran it, outside any lock
  // (may be empty). Must be thread-safe.
  std::function<void(const PassStats&)> on_pass;
};

// Where one query's time went (filled by Score when given).
struct ScoreTiming {
  double queued_seconds = 0;   // waiting for its pass to begin
  double scoring_seconds = 0;  // its pass (or its own scan), start to end
  size_t batch = 0;            // queries in its pass (1: scored alone)
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
  // valid for the call only. `timing` (may be null) is filled on success.
  absl::StatusOr<ScoringResult> Score(
      const Scorer& scorer, const ScoringQuery& query,
      std::chrono::system_clock::time_point deadline =
          std::chrono::system_clock::time_point::max(),
      ScoreTiming* timing = nullptr);

  // Passes made (TopK/TopKBatch calls through the queue) and the queries
  // they scored (for tests/metrics).
  size_t batches() const;
  size_t batched_queries() const;
  // Queries waiting for a pass to begin (0: none).
  size_t queued() const;

 private:
  struct Entry;
  // Runs one pass over the oldest queued queries for `scorer` (the running
  // caller's own, alive for its call); mu_ held on entry and on return,
  // released while scoring. Sets running_ around it.
  void RunPass(std::unique_lock<std::mutex>& lock, const Scorer& scorer);
  // Scores the entries of a pass (mu_ not held).
  static absl::Status ScoreEntries(const Scorer& scorer,
                                   const std::vector<std::shared_ptr<Entry>>& entries);
  // Removes `entry` from queue_ (it must be there).
  void Dequeue(const Entry* entry);
  // When no pass runs, wakes the oldest queued caller to run the next one
  // (mu_ held). Callers are woken one by one, never all at once: a pass's
  // end wakes its own callers and the next runner only.
  void WakeNextRunner();

  MicroBatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable gather_cv_;  // the caller gathering a pass (window > 0) waits here
  std::deque<std::shared_ptr<Entry>> queue_;  // guarded by mu_, oldest first
  bool running_ = false;                      // a pass is gathered or scored
  size_t batches_ = 0;                        // guarded by mu_
  size_t batched_queries_ = 0;                // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_MICRO_BATCHER_H_
