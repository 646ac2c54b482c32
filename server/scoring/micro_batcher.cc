#include "server/scoring/micro_batcher.h"

#include <vector>

namespace affinity::server {

struct MicroBatcher::Batch {
  const Scorer* scorer = nullptr;
  std::vector<ScoringQuery> queries;
  std::vector<ScoringResult> results;
  bool done = false;
};

MicroBatcher::MicroBatcher(MicroBatcherOptions options) : options_(options) {
  if (options_.max_batch == 0) options_.max_batch = 1;
}

ScoringResult MicroBatcher::Score(const Scorer& scorer, const ScoringQuery& query) {
  if (options_.window.count() <= 0 || options_.max_batch <= 1 ||
      !scorer.BenefitsFromBatching()) {
    return scorer.TopK(query);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (open_ != nullptr && open_->scorer == &scorer &&
      open_->queries.size() < options_.max_batch) {
    std::shared_ptr<Batch> batch = open_;
    const size_t position = batch->queries.size();
    batch->queries.push_back(query);
    if (batch->queries.size() >= options_.max_batch) {
      open_ = nullptr;
      cv_.notify_all();
    }
    cv_.wait(lock, [&] { return batch->done; });
    return std::move(batch->results[position]);
  }
  auto batch = std::make_shared<Batch>();
  batch->scorer = &scorer;
  batch->queries.push_back(query);
  open_ = batch;
  cv_.wait_for(lock, options_.window,
               [&] { return batch->queries.size() >= options_.max_batch; });
  if (open_ == batch) open_ = nullptr;
  ++batches_;
  batched_queries_ += batch->queries.size();
  lock.unlock();
  std::vector<ScoringResult> results =
      batch->queries.size() == 1
          ? std::vector<ScoringResult>{scorer.TopK(batch->queries[0])}
          : scorer.TopKBatch(batch->queries);
  lock.lock();
  batch->results = std::move(results);
  batch->done = true;
  cv_.notify_all();
  return std::move(batch->results[0]);
}

size_t MicroBatcher::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

size_t MicroBatcher::batched_queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batched_queries_;
}

}  // namespace affinity::server
