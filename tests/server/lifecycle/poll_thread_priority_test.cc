// The thread that loads versions runs at ModelManagerOptions::poll_thread_nice
// (the server's --load_nice), while the threads that call the manager keep
// their priority: a load listener, called on the loading thread, reads its
// own nice value.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "server/lifecycle/model_manager.h"
#include "storage/model_store.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using storage::ModelStore;

int ThreadNice() {
  errno = 0;
  return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
}

// The nice value of the thread that loaded version 1, with `nice` configured.
int LoadingThreadNice(int nice) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(1, 10, 20, 8, 5)).ok());
  }
  auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(follower.ok()) << follower.status();
  ModelManagerOptions options;
  options.poll_thread_nice = nice;
  ModelManager manager(std::move(*follower), options);
  std::atomic<int> seen{-100};
  manager.AddLoadListener([&](const LoadedModel&) { seen = ThreadNice(); });
  manager.StartPolling(std::chrono::milliseconds(10));
  for (int i = 0; i < 1000 && seen == -100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  manager.StopPolling();
  return seen;
}

TEST(PollThreadPriorityTest, LoadsRunAtTheConfiguredNiceValue) {
  const int own = ThreadNice();
  ASSERT_LT(own, 7) << "the test needs to run below nice 7";
  EXPECT_EQ(LoadingThreadNice(7), 7);
  EXPECT_EQ(ThreadNice(), own) << "the calling thread keeps its priority";
}

TEST(PollThreadPriorityTest, ZeroLeavesTheProcessPriority) {
  EXPECT_EQ(LoadingThreadNice(0), ThreadNice());
}

}  // namespace
}  // namespace affinity::server
