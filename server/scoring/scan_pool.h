// ScanPool: a small fixed set of threads that scan the item ranges of one
// pass over the item matrix beside the thread that asks for it.
//
// Run(parts, fn) calls fn(0) .. fn(parts - 1), each exactly once, and
// returns when all have returned. The caller runs parts itself while the
// workers take the others, so a pool of parallelism 1 (no workers) runs
// everything on the caller's thread, and a Run never waits for a worker
// busy elsewhere to start: parts nobody took yet are run by the caller.
// A part that throws does not stop the others; Run rethrows the first
// exception once every part has ended. Thread-safe: concurrent Runs share
// the workers. The destructor joins the workers (no Run may be active).
#ifndef AFFINITY_SERVER_SCORING_SCAN_POOL_H_
#define AFFINITY_SERVER_SCORING_SCAN_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace affinity::server {

class ScanPool {
 public:
  // `parallelism` threads scan at once, the caller included (parallelism - 1
  // workers are started); values below 1 count as 1.
  explicit ScanPool(int parallelism);
  ~ScanPool();
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  int parallelism() const { return static_cast<int>(workers_.size()) + 1; }

  void Run(size_t parts, const std::function<void(size_t)>& fn) const;

 private:
  struct Job;
  void WorkerLoop() const;

  std::vector<std::thread> workers_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::deque<std::shared_ptr<Job>> jobs_;  // guarded by mu_
  mutable bool stopping_ = false;                  // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_SCAN_POOL_H_
