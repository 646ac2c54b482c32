// RunOnNicedThread: the function runs on another thread at the raised nice
// value, under SCHED_IDLE when asked, and the caller's own priority and
// policy stay as they were; without either it runs on the caller's thread.
#include "server/lifecycle/niced_thread.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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
  ASSERT_LT(own, 15) << "the test needs to run below nice 15";
  const int own_policy = sched_getscheduler(0);
  ASSERT_NE(own_policy, SCHED_IDLE);

  const Seen niced = RunAndLook(4, false);
  EXPECT_NE(niced.thread, std::this_thread::get_id());
  EXPECT_EQ(niced.nice, own + 4);
  EXPECT_EQ(niced.policy, own_policy);

  const Seen idle = RunAndLook(4, true);
  EXPECT_NE(idle.thread, std::this_thread::get_id());
  EXPECT_EQ(idle.nice, own + 4);
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
