#include "server/rollout/shadow_runner.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_set.h"

namespace affinity::server::rollout {

ShadowRunner::ShadowRunner(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)), worker_([this] { Work(); }) {}

ShadowRunner::~ShadowRunner() { Stop(); }

bool ShadowRunner::TrySubmit(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= capacity_) {
    ++counters_.dropped;
    return false;
  }
  queue_.push_back(std::move(task));
  ++counters_.submitted;
  max_queued_ = std::max(max_queued_, queue_.size());
  return true;
}

void ShadowRunner::Stop() {
  std::deque<Task> discarded;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    counters_.discarded += queue_.size();
    discarded.swap(queue_);
  }
  // The tasks' captures are released outside the lock.
  discarded.clear();
  absl::MutexLock join(&join_mu_);
  if (worker_.joinable()) worker_.join();
}

bool ShadowRunner::HasWork() const { return stopping_ || !queue_.empty(); }

void ShadowRunner::Work() {
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ShadowRunner::HasWork));
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    bool ok = true;
    try {
      task();
    } catch (...) {
      ok = false;
    }
    task = nullptr;
    absl::MutexLock lock(&mu_);
    ++(ok ? counters_.completed : counters_.failed);
  }
}

ShadowRunner::Counters ShadowRunner::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

size_t ShadowRunner::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

size_t ShadowRunner::max_queued() const {
  absl::MutexLock lock(&mu_);
  return max_queued_;
}

double OverlapAtK(absl::Span<const std::string> served, absl::Span<const std::string> shadow) {
  const absl::flat_hash_set<absl::string_view> served_ids(served.begin(), served.end());
  absl::flat_hash_set<absl::string_view> common;
  for (const std::string& id : shadow) {
    if (served_ids.contains(id)) common.insert(id);
  }
  return static_cast<double>(common.size()) /
         static_cast<double>(std::max<size_t>(1, served_ids.size()));
}

}  // namespace affinity::server::rollout
