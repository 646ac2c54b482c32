// Follower mode: a read-only secondary view that sees versions published
// by the read-write process only after Refresh(), with or without that
// process running.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::ExpectModelEquals;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;
using ::testing::ElementsAre;

std::unique_ptr<ModelStore> OpenStore(const std::string& dir, ModelStore::Mode mode) {
  absl::StatusOr<std::unique_ptr<ModelStore>> store = ModelStore::Open(dir, mode);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<uint64_t> Versions(const ModelStore& store) {
  std::vector<uint64_t> versions;
  absl::StatusOr<std::vector<VersionInfo>> list = store.ListVersions();
  EXPECT_TRUE(list.ok()) << list.status();
  if (list.ok()) {
    for (const VersionInfo& info : *list) versions.push_back(info.version);
  }
  return versions;
}

uint64_t Live(const ModelStore& store) {
  absl::StatusOr<uint64_t> live = store.LiveVersion();
  EXPECT_TRUE(live.ok()) << live.status();
  return live.ok() ? *live : 0;
}

TEST(ModelStoreFollowerTest, SeesNewVersionsOnlyAfterRefresh) {
  const std::string dir = MakeTestDir();
  const SmallModel first = SmallModel::Make(6, 4, 3, 1);
  const SmallModel second = SmallModel::Make(9, 5, 3, 2);
  std::unique_ptr<ModelStore> writer = OpenStore(dir, ModelStore::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_EQ(PublishModel(*writer, first), 1u);

  std::unique_ptr<ModelStore> follower = OpenStore(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  EXPECT_THAT(Versions(*follower), ElementsAre(1u));
  EXPECT_EQ(Live(*follower), 1u);

  ASSERT_EQ(PublishModel(*writer, second), 2u);
  EXPECT_THAT(Versions(*follower), ElementsAre(1u));
  EXPECT_EQ(Live(*follower), 1u);
  EXPECT_TRUE(absl::IsNotFound(follower->OpenVersion(2).status()));

  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_THAT(Versions(*follower), ElementsAre(1u, 2u));
  EXPECT_EQ(Live(*follower), 2u);
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = follower->OpenVersion(2);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectModelEquals(second, **reader);

  // Pins made by the writer reach the follower the same way.
  ASSERT_TRUE(writer->SetLiveVersion(1).ok());
  EXPECT_EQ(Live(*follower), 2u);
  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_EQ(Live(*follower), 1u);
}

TEST(ModelStoreFollowerTest, RejectsWrites) {
  const std::string dir = MakeTestDir();
  {
    std::unique_ptr<ModelStore> writer = OpenStore(dir, ModelStore::Mode::kReadWrite);
    ASSERT_NE(writer, nullptr);
    ASSERT_EQ(PublishModel(*writer, SmallModel::Make(2, 2, 2, 1)), 1u);
  }
  std::unique_ptr<ModelStore> follower = OpenStore(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->CreateVersion().status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->SetLiveVersion(1)));
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->DeleteVersion(1)));
  EXPECT_THAT(Versions(*follower), ElementsAre(1u));
}

TEST(ModelStoreFollowerTest, WorksWithoutAWriterRunning) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(5, 3, 4, 7);
  {
    std::unique_ptr<ModelStore> writer = OpenStore(dir, ModelStore::Mode::kReadWrite);
    ASSERT_NE(writer, nullptr);
    ASSERT_EQ(PublishModel(*writer, model), 1u);
  }
  std::unique_ptr<ModelStore> follower = OpenStore(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  ASSERT_TRUE(follower->Refresh().ok());
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = follower->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectModelEquals(model, **reader);

  // Two followers side by side.
  std::unique_ptr<ModelStore> other = OpenStore(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Live(*other), 1u);
}

TEST(ModelStoreFollowerTest, StartsBeforeAnyWriter) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<ModelStore> follower = OpenStore(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  EXPECT_TRUE(Versions(*follower).empty());
  EXPECT_TRUE(absl::IsNotFound(follower->LiveVersion().status()));

  const SmallModel model = SmallModel::Make(3, 3, 2, 3);
  std::unique_ptr<ModelStore> writer = OpenStore(dir, ModelStore::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_EQ(PublishModel(*writer, model), 1u);
  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_EQ(Live(*follower), 1u);
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = follower->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectModelEquals(model, **reader);
}

}  // namespace
}  // namespace affinity::storage
