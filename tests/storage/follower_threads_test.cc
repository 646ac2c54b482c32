// A follower's Refresh (RocksDB's catch-up with the primary) starts no
// threads, however many versions were published since the last one: servers
// refresh every --poll_ms, beside their request threads. pthread_create is
// interposed to count the threads the process starts (not under ASan or
// TSan, whose runtimes interpose it themselves).
#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AFFINITY_COUNTS_THREADS 0
#else
#define AFFINITY_COUNTS_THREADS 1
#endif

namespace {
std::atomic<int> threads_started{0};
}  // namespace

#if AFFINITY_COUNTS_THREADS
extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                              void* (*start)(void*), void* arg) {
  using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const Create real = reinterpret_cast<Create>(dlsym(RTLD_NEXT, "pthread_create"));
  threads_started.fetch_add(1);
  return real(thread, attr, start, arg);
}
#endif

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;

TEST(FollowerThreadsTest, RefreshStartsNoThread) {
  if (!AFFINITY_COUNTS_THREADS) GTEST_SKIP() << "the sanitizer interposes pthread_create";
  // The count sees a thread started here.
  const int before_own = threads_started.load();
  std::thread([] {}).join();
  ASSERT_EQ(threads_started.load(), before_own + 1);

  const std::string dir = MakeTestDir();
  auto writer = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_EQ(PublishModel(**writer, SmallModel::Make(6, 4, 3, 1)), 1u);
  auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  ASSERT_TRUE(follower.ok()) << follower.status();

  for (uint64_t version = 2; version <= 6; ++version) {
    ASSERT_EQ(PublishModel(**writer, SmallModel::Make(6, 4, 3, static_cast<uint32_t>(version))),
              version);
    const int before = threads_started.load();
    ASSERT_TRUE((*follower)->Refresh().ok());
    ASSERT_TRUE((*follower)->Refresh().ok());
    EXPECT_EQ(threads_started.load(), before) << "version " << version;
    absl::StatusOr<uint64_t> live = (*follower)->LiveVersion();
    ASSERT_TRUE(live.ok()) << live.status();
    EXPECT_EQ(*live, version);
  }
}

}  // namespace
}  // namespace affinity::storage
