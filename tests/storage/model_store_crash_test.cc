// Crash safety of the model store: a writer process dies mid-version (by
// _exit or SIGKILL); the next read-write Open keeps every published version
// readable, removes the unpublished one and never reuses its number.
//
// Writer processes are this binary re-executed with --writer-child, so that
// they start with no threads inherited from the test process (RocksDB's
// background threads do not survive fork()).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/keys.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::ExpectModelEquals;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::RawKeys;
using ::affinity::storage::testing::SmallModel;
using ::testing::ElementsAre;

const SmallModel& FirstModel() {
  static const SmallModel* model = new SmallModel(SmallModel::Make(20, 10, 8, 1));
  return *model;
}

// Small memtables so that part of the unpublished version reaches SST
// files before the crash.
ModelStoreOptions SmallBuffers() {
  ModelStoreOptions options;
  options.write_buffer_bytes = 256 << 10;
  options.write_batch_bytes = 16 << 10;
  options.block_cache_bytes = 8 << 20;
  return options;
}

enum class Death { kExit, kKill };

// In a child process: publishes version 1, then writes version 2 without
// publishing it and dies. Writes one byte to `ready_fd` once enough of
// version 2 has been written.
// With ready_fd < 0 it kills itself right after publishing version 1.
[[noreturn]] void WriterChild(const std::string& dir, Death death, int ready_fd) {
  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Open(dir, ModelStore::Mode::kReadWrite, SmallBuffers());
  if (!store.ok()) _exit(10);
  std::unique_ptr<VersionWriter> first = *(*store)->CreateVersion();
  if (!testing::WriteModel(FirstModel(), *first).ok()) _exit(11);
  if (!first->Publish(FirstModel().Metadata()).ok()) _exit(12);
  if (ready_fd < 0) raise(SIGKILL);

  absl::StatusOr<std::unique_ptr<VersionWriter>> second = (*store)->CreateVersion();
  if (!second.ok() || (*second)->version() != 2) _exit(13);
  std::vector<float> factors(32, 0.5f);
  std::vector<uint32_t> seen = {1, 2, 3};
  for (uint32_t i = 0; i < 200; ++i) {
    if (!(*second)->AddItem(i, absl::StrCat("i", i), factors).ok()) _exit(14);
  }
  for (uint32_t u = 0;; ++u) {
    if (!(*second)->AddUser(u, absl::StrCat("user", u), factors, seen).ok()) _exit(15);
    if (u == 20000) {
      char byte = 1;
      if (write(ready_fd, &byte, 1) != 1) _exit(16);
      if (death == Death::kExit) _exit(0);
    }
  }
}

constexpr char kChildFlag[] = "--writer-child";

// Runs WriterChild in a fresh process: this binary with
// `--writer-child DIR exit|kill FD`.
pid_t SpawnWriter(const std::string& dir, Death death, int ready_fd) {
  const pid_t child = fork();
  if (child != 0) return child;
  const std::string fd = absl::StrCat(ready_fd);
  execl("/proc/self/exe", "model_store_crash_test", kChildFlag, dir.c_str(),
        death == Death::kExit ? "exit" : "kill", fd.c_str(),
        static_cast<char*>(nullptr));
  _exit(20);
}

void CrashWriterAndCheckRecovery(Death death) {
  const std::string dir = MakeTestDir();
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = SpawnWriter(dir, death, pipe_fds[1]);
  ASSERT_GE(child, 0);
  close(pipe_fds[1]);
  char byte = 0;
  ASSERT_EQ(read(pipe_fds[0], &byte, 1), 1) << "writer child died early";
  close(pipe_fds[0]);
  if (death == Death::kKill) {
    ASSERT_EQ(kill(child, SIGKILL), 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  if (death == Death::kKill) {
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  // The crash left rows of version 2 on disk (flushed memtables).
  const std::string db = dir + "/models";
  EXPECT_FALSE(
      RawKeys(db, keys::VersionDataBegin(2), keys::VersionDataEnd(2)).empty());

  {
    absl::StatusOr<std::unique_ptr<ModelStore>> store =
        ModelStore::Open(dir, ModelStore::Mode::kReadWrite, SmallBuffers());
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::vector<VersionInfo>> versions = (*store)->ListVersions();
    ASSERT_TRUE(versions.ok());
    ASSERT_EQ(versions->size(), 1u);
    EXPECT_EQ((*versions)[0].version, 1u);
    EXPECT_TRUE(absl::IsNotFound((*store)->OpenVersion(2).status()));
    absl::StatusOr<uint64_t> live = (*store)->LiveVersion();
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*live, 1u);
    absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader =
        (*store)->OpenVersion(1);
    ASSERT_TRUE(reader.ok()) << reader.status();
    ExpectModelEquals(FirstModel(), **reader);

    absl::StatusOr<std::unique_ptr<VersionWriter>> next = (*store)->CreateVersion();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ((*next)->version(), 3u);
  }
  EXPECT_TRUE(RawKeys(db, keys::VersionDataBegin(2), keys::VersionDataEnd(2)).empty());
}

TEST(ModelStoreCrashTest, ExitMidWriteKeepsPublishedAndCleansUnpublished) {
  CrashWriterAndCheckRecovery(Death::kExit);
}

TEST(ModelStoreCrashTest, KillMidWriteKeepsPublishedAndCleansUnpublished) {
  CrashWriterAndCheckRecovery(Death::kKill);
}

TEST(ModelStoreCrashTest, PublishedVersionSurvivesKillRightAfterPublish) {
  const std::string dir = MakeTestDir();
  const pid_t child = SpawnWriter(dir, Death::kKill, /*ready_fd=*/-1);
  ASSERT_GE(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = (*store)->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectModelEquals(FirstModel(), **reader);
}

}  // namespace
}  // namespace affinity::storage

int main(int argc, char** argv) {
  using affinity::storage::Death;
  if (argc == 5 && std::string(argv[1]) == affinity::storage::kChildFlag) {
    affinity::storage::WriterChild(
        argv[2], std::string(argv[3]) == "exit" ? Death::kExit : Death::kKill,
        std::atoi(argv[4]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
