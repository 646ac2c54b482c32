// PeriodicTask: runs a function on its own thread at once and then every
// period until Stop (or destruction), which wakes it and joins. Used for the
// server's background work (catalog refresh, rules reload, outcome flush,
// autopilot). Thread-safe.
#ifndef AFFINITY_SERVER_LIFECYCLE_PERIODIC_TASK_H_
#define AFFINITY_SERVER_LIFECYCLE_PERIODIC_TASK_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace affinity::server {

class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds period, std::function<void()> fn)
      : thread_([this, period, fn = std::move(fn)] {
          std::unique_lock<std::mutex> lock(mu_);
          do {
            lock.unlock();
            fn();
            lock.lock();
          } while (!cv_.wait_for(lock, period, [this] { return stopping_; }));
        }) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_PERIODIC_TASK_H_
