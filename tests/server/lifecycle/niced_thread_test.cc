// RunOnNicedThread: the function runs on another thread at the given nice
// value (never below the caller's), under SCHED_IDLE when asked, and the
// caller's own priority and policy stay as they were; without either it
// runs on the caller's thread.
#include "server/lifecycle/niced_thread.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "gtest/gtest.h"

namespace affinity::server {
namespace {

int ThreadNice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))); }

struct Seen {
  int nice = -100;
  int policy = -1;
  std::thread::id thread;
};

Seen RunAndLook(int nice, bool sched_idle) {
  Seen seen;
  RunOnNicedThread(
      nice,
      [&] {
        seen.nice = ThreadNice();
        seen.policy = sched_getscheduler(0);
        seen.thread = std::this_thread::get_id();
      },
      sched_idle);
  return seen;
}

TEST(NicedThreadTest, RaisesNiceAndSetsTheIdlePolicyOnAnotherThreadOnly) {
  const int own = ThreadNice();
  const int niced = std::max(own, 4);  // never a higher priority than the caller's
  const int own_policy = sched_getscheduler(0);
  ASSERT_NE(own_policy, SCHED_IDLE);

  const Seen lowered = RunAndLook(4, false);
  EXPECT_NE(lowered.thread, std::this_thread::get_id());
  EXPECT_EQ(lowered.nice, niced);
  EXPECT_EQ(lowered.policy, own_policy);

  const Seen idle = RunAndLook(4, true);
  EXPECT_NE(idle.thread, std::this_thread::get_id());
  EXPECT_EQ(idle.nice, niced);
  EXPECT_EQ(idle.policy, SCHED_IDLE);

  const Seen idle_only = RunAndLook(0, true);
  EXPECT_NE(idle_only.thread, std::this_thread::get_id());
  EXPECT_EQ(idle_only.policy, SCHED_IDLE);

  const Seen plain = RunAndLook(0, false);
  EXPECT_EQ(plain.thread, std::this_thread::get_id());

  EXPECT_EQ(ThreadNice(), own);
  EXPECT_EQ(sched_getscheduler(0), own_policy);
}

}  // namespace
}  // namespace affinity::server
