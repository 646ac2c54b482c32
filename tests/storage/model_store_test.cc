// The model store's versioning contract: round trips, visibility only after
// Publish, abandonment, completeness checks, numbering, deletion and the
// live-version pin; opening without creating, and the writability check
// jobs run before they work.
#include "storage/model_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/keys.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::ExpectModelEquals;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::RawKeys;
using ::affinity::storage::testing::SmallModel;
using ::affinity::storage::testing::WriteModel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<ModelStore> OpenReadWrite(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<uint64_t> Versions(const ModelStore& store) {
  absl::StatusOr<std::vector<VersionInfo>> list = store.ListVersions();
  EXPECT_TRUE(list.ok()) << list.status();
  std::vector<uint64_t> versions;
  if (list.ok()) {
    for (const VersionInfo& info : *list) {
      EXPECT_EQ(info.metadata.version(), info.version);
      versions.push_back(info.version);
    }
  }
  return versions;
}

std::vector<std::string> VersionDataKeys(const std::string& dir, uint64_t version) {
  return RawKeys(dir + "/models", keys::VersionDataBegin(version),
                 keys::VersionDataEnd(version));
}

TEST(ModelStoreTest, RoundTripAfterReopenIsBitExact) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(/*users=*/7, /*items=*/5, /*dims=*/4, 1);
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(PublishModel(*store, model), 1u);
  }
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Versions(*store), ElementsAre(1u));
  absl::StatusOr<uint64_t> live = store->LiveVersion();
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(*live, 1u);
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = store->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->metadata().version(), 1u);
  ExpectModelEquals(model, **reader);

  EXPECT_TRUE(absl::IsNotFound((*reader)->GetUser("nobody").status()));
  EXPECT_TRUE(absl::IsNotFound((*reader)->ItemIndex("nothing").status()));
  std::vector<float> wrong_size(3);
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*reader)->ReadItemFactors(absl::MakeSpan(wrong_size))));
}

TEST(ModelStoreTest, ReaderOutlivesStore) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 3, 2, 2);
  std::unique_ptr<ModelVersionReader> reader;
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, model), 1u);
    absl::StatusOr<std::unique_ptr<ModelVersionReader>> opened = store->OpenVersion(1);
    ASSERT_TRUE(opened.ok()) << opened.status();
    reader = *std::move(opened);
  }
  ExpectModelEquals(model, *reader);
}

TEST(ModelStoreTest, EmptyStoreHasNoLiveVersion) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Versions(*store).empty());
  EXPECT_TRUE(absl::IsNotFound(store->LiveVersion().status()));
  EXPECT_TRUE(absl::IsNotFound(store->OpenVersion(1).status()));
}

TEST(ModelStoreTest, UnpublishedVersionIsInvisible) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(PublishModel(*store, SmallModel::Make(3, 3, 2, 1)), 1u);

  absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->version(), 2u);
  ASSERT_TRUE(WriteModel(SmallModel::Make(3, 3, 2, 2), **writer).ok());

  EXPECT_THAT(Versions(*store), ElementsAre(1u));
  EXPECT_TRUE(absl::IsNotFound(store->OpenVersion(2).status()));
  absl::StatusOr<uint64_t> live = store->LiveVersion();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, 1u);
  EXPECT_TRUE(absl::IsNotFound(store->SetLiveVersion(2)));
  EXPECT_TRUE(absl::IsNotFound(store->DeleteVersion(2)));

  ASSERT_TRUE((*writer)->Publish(SmallModel::Make(3, 3, 2, 2).Metadata()).ok());
  EXPECT_THAT(Versions(*store), ElementsAre(1u, 2u));
  live = store->LiveVersion();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, 2u);
}

TEST(ModelStoreTest, AbandonedWriterLeavesNoData) {
  const std::string dir = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(3, 3, 2, 1)), 1u);
    absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store->CreateVersion();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(WriteModel(SmallModel::Make(50, 20, 8, 2), **writer).ok());
    // A failed Publish leaves the version unpublished too.
    affinity::v1::ModelMetadata wrong = SmallModel::Make(50, 20, 8, 2).Metadata();
    wrong.set_users(49);
    EXPECT_FALSE((*writer)->Publish(wrong).ok());
  }
  EXPECT_TRUE(VersionDataKeys(dir, 2).empty());
  EXPECT_FALSE(VersionDataKeys(dir, 1).empty());

  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Versions(*store), ElementsAre(1u));
  absl::StatusOr<std::unique_ptr<VersionWriter>> next = store->CreateVersion();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)->version(), 3u);
}

TEST(ModelStoreTest, PublishRejectsIncompleteVersions) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  const SmallModel model = SmallModel::Make(6, 4, 3, 5);
  absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(WriteModel(model, **writer).ok());

  affinity::v1::ModelMetadata metadata = model.Metadata();
  metadata.set_users(7);
  absl::Status s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("metadata.users is 7, expected 6"));

  metadata = model.Metadata();
  metadata.set_items(3);
  s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("metadata.items is 3, expected 4"));

  metadata = model.Metadata();
  metadata.set_dims(4);
  s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("metadata.dims is 4, expected 3"));

  EXPECT_TRUE(Versions(*store).empty());
  ASSERT_TRUE((*writer)->Publish(model.Metadata()).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Publish(model.Metadata())));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      (*writer)->AddItem(9, "late", std::vector<float>{1, 2, 3})));
}

TEST(ModelStoreTest, PublishRejectsGapsAndOutOfRangeIndices) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  const std::vector<float> v = {1.0f, 2.0f};
  affinity::v1::ModelMetadata metadata;
  metadata.set_dims(2);
  metadata.set_items(2);
  metadata.set_users(1);

  // Items 0 and 2 of a two-item version: index 1 is missing.
  absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->AddItem(0, "a", v).ok());
  ASSERT_TRUE((*writer)->AddItem(2, "c", v).ok());
  ASSERT_TRUE((*writer)->AddUser(0, "u", v, {}).ok());
  absl::Status s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("item index 2"));

  // A seen item index beyond the items.
  writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->AddItem(0, "a", v).ok());
  ASSERT_TRUE((*writer)->AddItem(1, "b", v).ok());
  ASSERT_TRUE((*writer)->AddUser(0, "u", v, std::vector<uint32_t>{1, 5}).ok());
  s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("seen item index 5"));

  // A popular item index beyond the items.
  writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->AddItem(0, "a", v).ok());
  ASSERT_TRUE((*writer)->AddItem(1, "b", v).ok());
  ASSERT_TRUE((*writer)->AddUser(0, "u", v, std::vector<uint32_t>{1, 0}).ok());
  ASSERT_TRUE((*writer)->SetPopularItems(std::vector<uint32_t>{1, 2}).ok());
  s = (*writer)->Publish(metadata);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("popular item index 2"));
  ASSERT_TRUE((*writer)->SetPopularItems(std::vector<uint32_t>{1, 0}).ok());
  ASSERT_TRUE((*writer)->Publish(metadata).ok());

  // Seen lists come back ascending whatever order they were given in.
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader =
      store->OpenVersion((*writer)->version());
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<UserRecord> user = (*reader)->GetUser("u");
  ASSERT_TRUE(user.ok());
  EXPECT_THAT(user->seen, ElementsAre(0u, 1u));
  EXPECT_THAT((*reader)->popular_items(), ElementsAre(1u, 0u));
}

TEST(ModelStoreTest, AddRejectsDuplicatesAndDimensionMismatch) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  const std::vector<float> v = {1.0f, 2.0f};
  ASSERT_TRUE((*writer)->AddItem(0, "a", v).ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*writer)->AddItem(1, "a", v)));
  EXPECT_TRUE(absl::IsAlreadyExists((*writer)->AddItem(0, "b", v)));
  absl::Status s = (*writer)->AddItem(1, "b", std::vector<float>{1.0f});
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("1 factors, expected 2"));
  EXPECT_TRUE(absl::IsInvalidArgument((*writer)->AddItem(1, "", v)));
  ASSERT_TRUE((*writer)->AddUser(0, "u", v, {}).ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*writer)->AddUser(1, "u", v, {})));
  EXPECT_TRUE(absl::IsAlreadyExists((*writer)->AddUser(0, "w", v, {})));
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*writer)->AddUser(1, "w", std::vector<float>{1, 2, 3}, {})));
}

TEST(ModelStoreTest, VersionsAreNumberedAscendingAndNeverReused) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 1)), 1u);
  EXPECT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 2)), 2u);
  {
    absl::StatusOr<std::unique_ptr<VersionWriter>> abandoned = store->CreateVersion();
    ASSERT_TRUE(abandoned.ok());
    EXPECT_EQ((*abandoned)->version(), 3u);
  }
  SmallModel gated = SmallModel::Make(2, 2, 2, 4);
  gated.ineligible = true;
  EXPECT_EQ(PublishModel(*store, gated), 4u);
  EXPECT_THAT(Versions(*store), ElementsAre(1u, 2u, 4u));
  // The gated version 4 never serves: version 2 stays live, and 4 can go.
  EXPECT_EQ(store->LiveVersion().value_or(0), 2u);
  ASSERT_TRUE(store->DeleteVersion(4).ok());
  store.reset();

  store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 5)), 5u);
  EXPECT_THAT(Versions(*store), ElementsAre(1u, 2u, 5u));
}

TEST(ModelStoreTest, DeleteVersionRemovesMarkerAndData) {
  const std::string dir = MakeTestDir();
  const SmallModel first = SmallModel::Make(5, 4, 3, 1);
  const SmallModel third = SmallModel::Make(5, 4, 3, 3);
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, first), 1u);
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(5, 4, 3, 2)), 2u);
    ASSERT_EQ(PublishModel(*store, third), 3u);
    ASSERT_TRUE(store->DeleteVersion(2).ok());
    EXPECT_TRUE(absl::IsNotFound(store->DeleteVersion(2)));
    EXPECT_TRUE(absl::IsNotFound(store->DeleteVersion(17)));
    EXPECT_THAT(Versions(*store), ElementsAre(1u, 3u));
    EXPECT_TRUE(absl::IsNotFound(store->OpenVersion(2).status()));
    // The newest is live (servers use it): deleting it is refused.
    absl::Status refused = store->DeleteVersion(3);
    EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
    EXPECT_THAT(refused.message(), HasSubstr("live version"));
    EXPECT_THAT(Versions(*store), ElementsAre(1u, 3u));
  }
  EXPECT_TRUE(VersionDataKeys(dir, 2).empty());
  EXPECT_FALSE(VersionDataKeys(dir, 3).empty());
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = store->OpenVersion(1);
  ASSERT_TRUE(reader.ok());
  ExpectModelEquals(first, **reader);
}

TEST(ModelStoreTest, LiveVersionPinAndUnpin) {
  const std::string dir = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 1)), 1u);
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 2)), 2u);
    ASSERT_TRUE(store->SetLiveVersion(1).ok());
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 3)), 3u);
    absl::StatusOr<uint64_t> live = store->LiveVersion();
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*live, 1u);
    absl::Status s = store->DeleteVersion(1);
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_TRUE(absl::IsNotFound(store->SetLiveVersion(9)));
  }
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<uint64_t> live = store->LiveVersion();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, 1u);  // the pin survives reopening
  ASSERT_TRUE(store->SetLiveVersion(std::nullopt).ok());
  live = store->LiveVersion();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, 3u);
  EXPECT_TRUE(store->DeleteVersion(1).ok());
  EXPECT_THAT(Versions(*store), ElementsAre(2u, 3u));
}

TEST(ModelStoreTest, OpenWithoutCreateRefusesAMissingStoreAndCreatesNothing) {
  const std::string dir = MakeTestDir() + "/typo";
  ModelStoreOptions options;
  options.create_if_missing = false;
  for (const ModelStore::Mode mode : {ModelStore::Mode::kFollower, ModelStore::Mode::kReadWrite}) {
    absl::StatusOr<std::unique_ptr<ModelStore>> store = ModelStore::Open(dir, mode, options);
    ASSERT_TRUE(absl::IsNotFound(store.status())) << store.status();
    EXPECT_EQ(store.status().message(),
              "no model store at " + dir + " (" + dir + "/models does not exist)");
    EXPECT_FALSE(std::filesystem::exists(dir));
  }
  // An existing store opens either way.
  ASSERT_NE(OpenReadWrite(dir), nullptr);
  for (const ModelStore::Mode mode : {ModelStore::Mode::kFollower, ModelStore::Mode::kReadWrite}) {
    absl::StatusOr<std::unique_ptr<ModelStore>> store = ModelStore::Open(dir, mode, options);
    EXPECT_TRUE(store.ok()) << store.status();
  }
  // By default a follower (a server waiting for its first version) creates
  // the store.
  const std::string fresh = MakeTestDir() + "/fresh";
  EXPECT_TRUE(ModelStore::Open(fresh, ModelStore::Mode::kFollower).ok());
  EXPECT_TRUE(std::filesystem::exists(fresh + "/models/CURRENT"));
}

TEST(ModelStoreTest, CheckStoreWritableCreatesNothing) {
  const std::string root = MakeTestDir();
  // Where the store would be created: fine, and still absent after.
  EXPECT_TRUE(CheckStoreWritable(root + "/a/b/db").ok());
  EXPECT_FALSE(std::filesystem::exists(root + "/a"));
  // An existing store.
  ASSERT_NE(OpenReadWrite(root + "/db"), nullptr);
  EXPECT_TRUE(CheckStoreWritable(root + "/db").ok());
  // The probe file is gone.
  for (const auto& entry : std::filesystem::directory_iterator(root + "/db/models")) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr("write-check")));
  }
  // A file in the way.
  std::ofstream(root + "/file") << "x";
  absl::Status s = CheckStoreWritable(root + "/file/db");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "cannot write a model store at " + root + "/file/db: " + root +
                             "/file is not a directory");
  s = CheckStoreWritable(root + "/file");
  EXPECT_THAT(s.message(), HasSubstr(root + "/file is not a directory"));
}

TEST(ModelStoreTest, CheckStoreWritableRefusesAnUnwritableDirectory) {
  // /proc refuses new files even to root; a directory without write
  // permission refuses them to anyone else.
  absl::Status s = CheckStoreWritable("/proc/affinity-db");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("cannot write a model store at /proc/affinity-db: cannot "
                                     "create files in /proc ("));
  if (geteuid() != 0) {
    const std::string locked = MakeTestDir();
    ASSERT_EQ(chmod(locked.c_str(), 0555), 0);
    s = CheckStoreWritable(locked + "/db");
    EXPECT_THAT(s.message(), HasSubstr("cannot create files in " + locked));
    chmod(locked.c_str(), 0755);
  }
}

}  // namespace
}  // namespace affinity::storage
