#include "server/scoring/scan_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace affinity::server {

// One Run: parts are claimed through `next`, so the caller and any number
// of workers can share it; workers hold it by shared_ptr, so one that comes
// late (every part taken, Run returned) only finds nothing left to claim.
struct ScanPool::Job {
  const std::function<void(size_t)>* fn = nullptr;  // valid while parts remain
  size_t parts = 0;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;               // guarded by mu
  std::exception_ptr error;      // guarded by mu; the first one

  // Claims and runs parts until none is left.
  void Work() {
    while (true) {
      const size_t part = next.fetch_add(1, std::memory_order_relaxed);
      if (part >= parts) return;
      std::exception_ptr thrown;
      try {
        (*fn)(part);
      } catch (...) {
        thrown = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      if (thrown && !error) error = thrown;
      if (++done == parts) cv.notify_all();
    }
  }
};

ScanPool::ScanPool(int parallelism) {
  for (int i = 1; i < parallelism; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ScanPool::~ScanPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ScanPool::WorkerLoop() const {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job->Work();
  }
}

void ScanPool::Run(size_t parts, const std::function<void(size_t)>& fn) const {
  if (parts == 0) return;
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->parts = parts;
  const size_t helpers = std::min(parts - 1, workers_.size());
  if (helpers > 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < helpers; ++i) jobs_.push_back(job);
    }
    if (helpers == 1) {
      cv_.notify_one();
    } else {
      cv_.notify_all();
    }
  }
  job->Work();
  std::unique_lock<std::mutex> lock(job->mu);
  job->cv.wait(lock, [&] { return job->done == parts; });
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace affinity::server
