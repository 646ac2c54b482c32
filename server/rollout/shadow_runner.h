// Shadow scoring off the latency path: a request sampled for the shadow
// version hands a task (score with the shadow model, compare with what was
// served, record the result) to a ShadowRunner and returns at once.
//
// Contract:
//  - One worker thread runs tasks one at a time, in submission order.
//  - At most `capacity` tasks wait (the running one not counted).
//    TrySubmit never waits for room: when the queue is full, or after Stop,
//    it returns false and counts a drop. It holds a mutex only for the
//    queue operation, never while a task runs.
//  - Stop() (and the destructor) discards the waiting tasks unrun (counted
//    as discarded), waits for the running task to return and joins the
//    worker; it must not be called from a task. Stop is idempotent.
//  - A task that throws is counted as failed; the worker goes on.
//  - Every method is thread-safe.
//
// OverlapAtK(served, shadow) = |distinct served ids that the shadow also
// returned| / max(1, |distinct served ids|): 1 when the shadow returned
// every served item, 0 when none (or nothing was served). Pure.
#ifndef AFFINITY_SERVER_ROLLOUT_SHADOW_RUNNER_H_
#define AFFINITY_SERVER_ROLLOUT_SHADOW_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace affinity::server::rollout {

class ShadowRunner {
 public:
  using Task = std::function<void()>;

  struct Counters {
    uint64_t submitted = 0;  // accepted by TrySubmit
    uint64_t dropped = 0;    // refused by TrySubmit (queue full or stopped)
    uint64_t completed = 0;  // ran to the end
    uint64_t failed = 0;     // threw
    uint64_t discarded = 0;  // waiting when Stop ran, never run
  };

  // capacity: how many tasks may wait; at least 1 (0 is taken as 1).
  explicit ShadowRunner(size_t capacity);
  ~ShadowRunner();
  ShadowRunner(const ShadowRunner&) = delete;
  ShadowRunner& operator=(const ShadowRunner&) = delete;

  // Queues `task` unless the queue is full or the runner is stopped.
  bool TrySubmit(Task task);
  void Stop();

  Counters counters() const;
  size_t capacity() const { return capacity_; }
  // Tasks waiting now, and the most that ever waited at once.
  size_t queued() const;
  size_t max_queued() const;

 private:
  void Work();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t max_queued_ ABSL_GUARDED_BY(mu_) = 0;
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Serializes Stop's join.
  absl::Mutex join_mu_;
  std::thread worker_;
};

double OverlapAtK(absl::Span<const std::string> served, absl::Span<const std::string> shadow);

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_SHADOW_RUNNER_H_
