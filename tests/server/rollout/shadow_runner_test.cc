// ShadowRunner: a bounded queue in front of one worker. Tasks that block
// until the test releases them make the queue's state deterministic; no
// assertion depends on timing.
#include "server/rollout/shadow_runner.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace affinity::server::rollout {
namespace {

// Waits (without any assertion on time) until `done` holds.
template <typename Predicate>
void WaitUntil(Predicate done) {
  while (!done()) absl::SleepFor(absl::Milliseconds(1));
}

TEST(ShadowRunnerTest, AFullQueueDropsWithoutWaiting) {
  ShadowRunner runner(3);
  absl::Notification started, release;
  ASSERT_TRUE(runner.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  // The worker is busy: three tasks wait, the next ones are dropped.
  absl::BlockingCounter ran(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(runner.TrySubmit([&] { ran.DecrementCount(); }));
  EXPECT_FALSE(runner.TrySubmit([] {}));
  EXPECT_FALSE(runner.TrySubmit([] {}));
  EXPECT_EQ(runner.queued(), 3u);
  ShadowRunner::Counters counters = runner.counters();
  EXPECT_EQ(counters.submitted, 4u);
  EXPECT_EQ(counters.dropped, 2u);
  EXPECT_EQ(counters.completed, 0u);

  release.Notify();
  ran.Wait();
  runner.Stop();
  counters = runner.counters();
  EXPECT_EQ(counters.completed, 4u);
  EXPECT_EQ(counters.discarded, 0u);
  EXPECT_EQ(runner.max_queued(), 3u);
}

TEST(ShadowRunnerTest, SlowTasksNeverLetTheQueueGrowPastItsCapacity) {
  ShadowRunner runner(4);
  std::atomic<int> accepted{0};
  auto submit = [&] {
    for (int i = 0; i < 300; ++i) {
      if (runner.TrySubmit([] { absl::SleepFor(absl::Microseconds(200)); })) ++accepted;
    }
  };
  std::thread a(submit), b(submit);
  a.join();
  b.join();
  WaitUntil([&] { return runner.counters().completed == runner.counters().submitted; });
  const ShadowRunner::Counters counters = runner.counters();
  EXPECT_EQ(counters.submitted, static_cast<uint64_t>(accepted.load()));
  EXPECT_EQ(counters.submitted + counters.dropped, 600u);
  EXPECT_LE(runner.max_queued(), runner.capacity());
  EXPECT_GE(runner.max_queued(), 1u);
}

TEST(ShadowRunnerTest, TasksRunInSubmissionOrder) {
  ShadowRunner runner(100);
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification last;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(runner.TrySubmit([&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
      if (i == 49) last.Notify();
    }));
  }
  last.WaitForNotification();
  runner.Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(ShadowRunnerTest, StopDiscardsWaitingTasksAndRefusesNewOnes) {
  ShadowRunner runner(5);
  absl::Notification started, release;
  ASSERT_TRUE(runner.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(runner.TrySubmit([&] { ++ran; }));

  // Stop empties the queue before it waits for the running task.
  std::thread stopper([&] { runner.Stop(); });
  WaitUntil([&] { return runner.queued() == 0; });
  EXPECT_FALSE(runner.TrySubmit([&] { ++ran; }));
  release.Notify();
  stopper.join();

  EXPECT_EQ(ran.load(), 0);
  const ShadowRunner::Counters counters = runner.counters();
  EXPECT_EQ(counters.completed, 1u);
  EXPECT_EQ(counters.discarded, 5u);
  EXPECT_EQ(counters.dropped, 1u);
  runner.Stop();  // again: nothing to do
}

TEST(ShadowRunnerTest, AThrowingTaskIsCountedAndTheWorkerGoesOn) {
  ShadowRunner runner(2);
  absl::Notification after;
  ASSERT_TRUE(runner.TrySubmit([] { throw std::runtime_error("shadow model failed"); }));
  ASSERT_TRUE(runner.TrySubmit([&] { after.Notify(); }));
  after.WaitForNotification();
  runner.Stop();
  EXPECT_EQ(runner.counters().failed, 1u);
  EXPECT_EQ(runner.counters().completed, 1u);
}

TEST(OverlapAtKTest, SharesOfTheServedItemsTheShadowAlsoReturned) {
  const std::vector<std::string> served = {"a", "b", "c", "d"};
  EXPECT_DOUBLE_EQ(OverlapAtK(served, {"b", "d", "e", "f"}), 0.5);
  EXPECT_DOUBLE_EQ(OverlapAtK(served, {"d", "c", "b", "a"}), 1.0);
  EXPECT_DOUBLE_EQ(OverlapAtK(served, {"x", "y"}), 0.0);
  EXPECT_DOUBLE_EQ(OverlapAtK(served, {}), 0.0);
  EXPECT_DOUBLE_EQ(OverlapAtK({}, {"a"}), 0.0);
  // A repeated shadow id counts once.
  EXPECT_DOUBLE_EQ(OverlapAtK({"a", "b"}, {"b", "b"}), 0.5);
  EXPECT_DOUBLE_EQ(OverlapAtK({"a", "b", "c"}, {"c"}), 1.0 / 3);
}

}  // namespace
}  // namespace affinity::server::rollout
