// Opening a version whose stored metadata disagrees with its stored items
// (an item count far beyond what is stored, a negative one, a dims value
// the item records do not have) is a DataLoss status naming the version,
// never an allocation sized by the metadata.
#include <functional>
#include <memory>
#include <string>

#include "affinity/v1/model.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::EditStoredMetadata;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;
using ::testing::HasSubstr;

// A store with one published version (7 users, 5 items, 4 dims) whose
// metadata is then rewritten with `edit` behind the store's back.
std::string StoreWithEditedMetadata(
    const std::function<void(affinity::v1::ModelMetadata&)>& edit) {
  const std::string dir = MakeTestDir();
  {
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return dir;
    EXPECT_EQ(PublishModel(**store, SmallModel::Make(7, 5, 4, 1)), 1u);
  }
  EditStoredMetadata(dir, 1, edit);
  return dir;
}

absl::Status OpenVersionOne(const std::string& dir) {
  auto store = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  return (*store)->OpenVersion(1).status();
}

TEST(VersionMetadataTest, ItemCountFarBeyondTheStoredItemsIsDataLoss) {
  const std::string dir = StoreWithEditedMetadata(
      [](affinity::v1::ModelMetadata& m) { m.set_items(int64_t{1} << 40); });
  const absl::Status status = OpenVersionOne(dir);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("version 1"));
  EXPECT_THAT(status.message(), HasSubstr("1099511627776 items"));
  EXPECT_THAT(status.message(), HasSubstr("holds 5"));
}

TEST(VersionMetadataTest, NegativeItemCountIsDataLoss) {
  const std::string dir =
      StoreWithEditedMetadata([](affinity::v1::ModelMetadata& m) { m.set_items(-1); });
  const absl::Status status = OpenVersionOne(dir);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("version 1"));
  EXPECT_THAT(status.message(), HasSubstr("-1 items"));
}

TEST(VersionMetadataTest, FewerItemsThanStoredIsDataLoss) {
  const std::string dir =
      StoreWithEditedMetadata([](affinity::v1::ModelMetadata& m) { m.set_items(3); });
  const absl::Status status = OpenVersionOne(dir);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("version 1"));
}

TEST(VersionMetadataTest, DimsTheItemRecordsDoNotHaveIsDataLoss) {
  const std::string dir = StoreWithEditedMetadata(
      [](affinity::v1::ModelMetadata& m) { m.set_dims(1 << 30); });
  const absl::Status status = OpenVersionOne(dir);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("version 1"));
  EXPECT_THAT(status.message(), HasSubstr("4 dims, expected 1073741824"));
}

TEST(VersionMetadataTest, UneditedVersionOpens) {
  const std::string dir = StoreWithEditedMetadata([](affinity::v1::ModelMetadata&) {});
  EXPECT_TRUE(OpenVersionOne(dir).ok());
}

}  // namespace
}  // namespace affinity::storage
