// Followers' private directories under $TMPDIR: each holds a locked owner
// file with its pid while the follower is open and is removed when it
// closes; a directory left by a process that was killed is removed by the
// next follower Open, while live followers' directories and directories
// without an owner file are kept.
#include "storage/rocks_db.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::MakeTestDir;

// The affinity-follower-* directories under `root`, sorted.
std::vector<std::string> FollowerDirs(const std::string& root) {
  std::vector<std::string> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("affinity-follower-", 0) == 0) dirs.push_back(entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RocksDbFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = MakeTestDir();
    db_ = MakeTestDir() + "/db";
    setenv("TMPDIR", tmp_.c_str(), 1);
  }
  void TearDown() override { unsetenv("TMPDIR"); }

  std::shared_ptr<RocksDb> OpenFollower() {
    auto db = RocksDb::Open(db_, RocksDb::Mode::kFollower, RocksTuning());
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *db : nullptr;
  }

  std::string tmp_, db_;
};

// First in the file: the child is forked before this process has started
// any RocksDB thread.
TEST_F(RocksDbFollowerTest, ADirectoryLeftByAKilledFollowerIsRemovedByTheNextOpen) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = RocksDb::Open(db_, RocksDb::Mode::kFollower, RocksTuning());
    if (!db.ok()) _exit(10);
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(11);
    pause();  // killed here, the follower still open
    _exit(12);
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  const std::vector<std::string> left = FollowerDirs(tmp_);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(ReadAll(left[0] + "/owner"), "pid " + std::to_string(child) + "\n");
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  ASSERT_EQ(FollowerDirs(tmp_), left);  // nothing cleaned it up

  std::shared_ptr<RocksDb> follower = OpenFollower();
  ASSERT_NE(follower, nullptr);
  const std::vector<std::string> now = FollowerDirs(tmp_);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], left[0]);
  EXPECT_EQ(ReadAll(now[0] + "/owner"), "pid " + std::to_string(getpid()) + "\n");
}

TEST_F(RocksDbFollowerTest, LiveFollowersKeepTheirDirectoriesUntilTheyClose) {
  std::shared_ptr<RocksDb> first = OpenFollower();
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(FollowerDirs(tmp_).size(), 1u);
  // Opening more checks the first one's lock and leaves it.
  std::shared_ptr<RocksDb> second = OpenFollower();
  std::shared_ptr<RocksDb> third = OpenFollower();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(FollowerDirs(tmp_).size(), 3u);
  first.reset();
  second.reset();
  EXPECT_EQ(FollowerDirs(tmp_).size(), 1u);
  third.reset();
  EXPECT_TRUE(FollowerDirs(tmp_).empty());
}

TEST_F(RocksDbFollowerTest, DirectoriesWithoutAnOwnerFileAreLeftAlone) {
  // Left by an older version, or being created by another process.
  const std::string unowned = tmp_ + "/affinity-follower-old123";
  ASSERT_TRUE(std::filesystem::create_directory(unowned));
  std::ofstream(unowned + "/LOG") << "x";
  // A stale directory with an owner file nobody holds: removed.
  const std::string stale = tmp_ + "/affinity-follower-dead12";
  ASSERT_TRUE(std::filesystem::create_directory(stale));
  std::ofstream(stale + "/owner") << "pid 1\n";
  std::shared_ptr<RocksDb> follower = OpenFollower();
  ASSERT_NE(follower, nullptr);
  EXPECT_TRUE(std::filesystem::exists(unowned + "/LOG"));
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_EQ(FollowerDirs(tmp_).size(), 2u);
}

// A database at `path` holding key "k" = `value`, closed again.
void WriteDb(const std::string& path, const std::string& value) {
  auto db = RocksDb::Open(path, RocksDb::Mode::kReadWrite, RocksTuning());
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->db()->Put(rocksdb::WriteOptions(), "k", value).ok());
}

std::string Get(const RocksDb& db) {
  std::string value;
  rocksdb::Status s = db.db()->Get(rocksdb::ReadOptions(), "k", &value);
  return s.ok() ? value : s.ToString();
}

TEST_F(RocksDbFollowerTest, AFollowerStopsFollowingADatabaseCreatedAgainInItsPlace) {
  ASSERT_NO_FATAL_FAILURE(WriteDb(db_, "old"));
  std::shared_ptr<RocksDb> follower = OpenFollower();
  ASSERT_NE(follower, nullptr);
  ASSERT_FALSE(follower->identity().empty());
  EXPECT_TRUE(follower->Refresh().ok());

  std::filesystem::remove_all(db_);
  ASSERT_NO_FATAL_FAILURE(WriteDb(db_, "new"));
  ASSERT_NO_FATAL_FAILURE(WriteDb(db_, "newer"));  // another MANIFEST
  const absl::Status refreshed = follower->Refresh();
  EXPECT_TRUE(absl::IsFailedPrecondition(refreshed)) << refreshed;
  EXPECT_EQ(refreshed.message().rfind(
                db_ + ": the database was deleted and created again since this process opened "
                      "it (identity " + follower->identity() + ", now ",
                0),
            0u)
      << refreshed;
  EXPECT_EQ(Get(*follower), "old");  // what was read stays readable
  EXPECT_EQ(follower->Refresh(), refreshed);  // for good, the same words
  EXPECT_EQ(follower->CheckSameDatabase().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksDbFollowerTest, ACopyOfTheSameDatabaseInANewDirectoryIsNotFollowedEither) {
  ASSERT_NO_FATAL_FAILURE(WriteDb(db_, "old"));
  std::shared_ptr<RocksDb> follower = OpenFollower();
  ASSERT_NE(follower, nullptr);
  // A backup restored in place of the directory: same IDENTITY file.
  const std::string copy = db_ + ".copy";
  std::filesystem::copy(db_, copy);
  std::filesystem::remove_all(db_);
  std::filesystem::rename(copy, db_);
  ASSERT_EQ(ReadDbIdentity(db_), follower->identity());
  const absl::Status refreshed = follower->Refresh();
  EXPECT_TRUE(absl::IsFailedPrecondition(refreshed)) << refreshed;
  EXPECT_NE(refreshed.message().find("in a new directory"), std::string::npos) << refreshed;
  EXPECT_EQ(Get(*follower), "old");
}

TEST_F(RocksDbFollowerTest, ADeletedDatabaseIsReportedAndItsDataStaysReadable) {
  ASSERT_NO_FATAL_FAILURE(WriteDb(db_, "old"));
  std::shared_ptr<RocksDb> follower = OpenFollower();
  ASSERT_NE(follower, nullptr);
  std::filesystem::remove_all(db_);
  const absl::Status refreshed = follower->Refresh();
  EXPECT_TRUE(absl::IsFailedPrecondition(refreshed)) << refreshed;
  EXPECT_NE(refreshed.message().find("the database was deleted since this process opened it"),
            std::string::npos)
      << refreshed;
  EXPECT_EQ(Get(*follower), "old");
}

// A read-write open that fails for another reason than a lock held by
// another process (here the lock file cannot be opened) says what failed:
// it is not reported as the "busy, retry" of a held lock.
TEST(RocksDbWriterTest, AnUnwritableDatabaseIsNotReportedAsBusy) {
  const std::string path = MakeTestDir() + "/db";
  {
    auto db = RocksDb::Open(path, RocksDb::Mode::kReadWrite, RocksTuning());
    ASSERT_TRUE(db.ok()) << db.status();
  }
  std::filesystem::remove(path + "/LOCK");
  std::filesystem::create_directory(path + "/LOCK");
  RocksTuning tuning;
  tuning.lock_wait_ms = 0;
  auto db = RocksDb::Open(path, RocksDb::Mode::kReadWrite, tuning);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition) << db.status();
  EXPECT_NE(db.status().message().find("cannot open " + path + " for writing"),
            std::string::npos)
      << db.status();
}

}  // namespace
}  // namespace affinity::storage
