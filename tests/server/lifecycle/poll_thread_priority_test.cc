// Where the manager's work runs: a version loaded beside a serving one loads
// at ModelManagerOptions::poll_thread_nice (the server's --load_nice), on a
// thread of its own, while the polling thread (which catches the store up,
// holding the database mutex that request reads may need) and the threads
// that call the manager keep their priority; a first load, with nobody to
// yield to, is not niced. A released version is freed by a later poll, not
// by the request thread that drops the last reference to it.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
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

// A writer and a manager following it, with version 1 published.
class ManagerFixture {
 public:
  explicit ManagerFixture(int nice) : dir_(storage::testing::MakeTestDir()) {
    auto writer = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    EXPECT_TRUE(writer.ok()) << writer.status();
    writer_ = std::move(*writer);
    PublishNext();
    auto follower = ModelStore::Open(dir_, ModelStore::Mode::kFollower);
    EXPECT_TRUE(follower.ok()) << follower.status();
    ModelManagerOptions options;
    options.poll_thread_nice = nice;
    manager_ = std::make_unique<ModelManager>(std::move(*follower), options);
    manager_->SetWarmUp([this](const LoadedModel& model) {
      load_nice_[model.version] = ThreadNice();
    });
    manager_->SetPollListener([this](const absl::Status& status) {
      poll_nice_ = ThreadNice();
      std::lock_guard<std::mutex> lock(mu_);
      ++polls_;
      last_poll_ = status.ToString();
    });
  }

  void PublishNext() {
    ++seed_;
    ASSERT_TRUE(testing::Publish(writer_.get(), testing::MakeImplicitModel(seed_, 10, 20, 8, 5)).ok());
  }

  ModelManager& manager() { return *manager_; }
  // The nice value of the thread that loaded `version` (-100: not loaded).
  int load_nice(uint64_t version) const { return load_nice_[version]; }
  int poll_nice() const { return poll_nice_; }
  // How many polls ran and what the last one returned.
  std::string polls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::to_string(polls_) + " polls, the last: " + last_poll_;
  }

 private:
  std::string dir_;
  std::unique_ptr<ModelStore> writer_;
  std::unique_ptr<ModelManager> manager_;
  uint32_t seed_ = 0;
  std::atomic<int> load_nice_[4] = {-100, -100, -100, -100};
  std::atomic<int> poll_nice_{-100};
  mutable std::mutex mu_;
  int polls_ = 0;
  std::string last_poll_;
};

TEST(PollThreadPriorityTest, ALoadBesideAServingVersionRunsNicedThePollingDoesNot) {
  const int own = ThreadNice();
  ASSERT_LT(own, 7) << "the test needs to run below nice 7";
  ManagerFixture fixture(7);
  fixture.manager().StartPolling(std::chrono::milliseconds(10));
  for (int i = 0; i < 6000 && fixture.load_nice(1) == -100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(fixture.load_nice(1), own) << "a first load has nobody to yield to";
  fixture.PublishNext();
  for (int i = 0; i < 6000 && fixture.load_nice(2) == -100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fixture.manager().StopPolling();
  EXPECT_EQ(fixture.load_nice(2), 7) << fixture.polls();
  EXPECT_EQ(fixture.poll_nice(), own) << "the polling thread keeps the process's priority";
  EXPECT_EQ(ThreadNice(), own) << "the calling thread keeps its priority";
}

TEST(PollThreadPriorityTest, ZeroLoadsAtTheProcessPriority) {
  ManagerFixture fixture(0);
  ASSERT_TRUE(fixture.manager().Poll().ok());
  fixture.PublishNext();
  ASSERT_TRUE(fixture.manager().Poll().ok());
  EXPECT_EQ(fixture.load_nice(2), ThreadNice());
}

TEST(PollThreadPriorityTest, AReleasedVersionIsFreedByAPollNotByItsLastRequest) {
  ManagerFixture fixture(7);
  ASSERT_TRUE(fixture.manager().Poll().ok());
  ModelManager::Route route = fixture.manager().ControlRoute();
  ASSERT_NE(route.model, nullptr);
  ASSERT_EQ(route.model->version, 1u);
  std::weak_ptr<const LoadedModel> version1 = route.model;

  fixture.PublishNext();
  ASSERT_TRUE(fixture.manager().Poll().ok());
  ASSERT_EQ(fixture.manager().ControlRoute().model->version, 2u);
  EXPECT_FALSE(version1.expired()) << "the request still holds version 1";

  route = ModelManager::Route{};  // the request ends
  EXPECT_FALSE(version1.expired()) << "the request thread must not free the version";
  ASSERT_TRUE(fixture.manager().Poll().ok());
  EXPECT_TRUE(version1.expired()) << "the next poll frees it";
}

}  // namespace
}  // namespace affinity::server
