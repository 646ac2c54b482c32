// A follower's catch-up can see a version's publish marker before the
// records flushed just before it (RocksDB's secondary reads the writer's
// file list, then its log): loading the version then finds no records
// (NotFound). ModelManager loads such a version again at the next Poll
// instead of leaving it out until the rollout changes; a NotFound that
// repeats is the version's own, reported once.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/lifecycle/model_manager.h"
#include "storage/model_store.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using storage::ModelStore;

// A follower whose OpenVersion(v) answers NotFound for the first
// not_found[v] calls, the way a catch-up that missed the records does.
class UnseenRecordsStore : public ModelStore {
 public:
  UnseenRecordsStore(std::unique_ptr<ModelStore> store, std::map<uint64_t, int> not_found)
      : store_(std::move(store)), not_found_(std::move(not_found)) {}

  absl::Status Refresh() override { return store_->Refresh(); }
  absl::StatusOr<std::unique_ptr<storage::VersionWriter>> CreateVersion() override {
    return store_->CreateVersion();
  }
  absl::StatusOr<std::vector<storage::VersionInfo>> ListVersions() const override {
    return store_->ListVersions();
  }
  absl::StatusOr<uint64_t> LiveVersion() const override { return store_->LiveVersion(); }
  absl::Status SetLiveVersion(std::optional<uint64_t> version, const std::string& by) override {
    return store_->SetLiveVersion(version, by);
  }
  absl::StatusOr<affinity::v1::RolloutState> GetRollout() const override {
    return store_->GetRollout();
  }
  absl::StatusOr<affinity::v1::ResolvedRollout> ResolvedRollout() const override {
    return store_->ResolvedRollout();
  }
  absl::StatusOr<affinity::v1::RolloutState> UpdateRollout(
      uint64_t expected_revision, affinity::v1::RolloutState next,
      const storage::RolloutChangeInfo& change) override {
    return store_->UpdateRollout(expected_revision, std::move(next), change);
  }
  absl::StatusOr<std::vector<affinity::v1::RolloutChange>> RolloutHistory(
      size_t limit) const override {
    return store_->RolloutHistory(limit);
  }
  absl::StatusOr<std::unique_ptr<storage::ModelVersionReader>> OpenVersion(
      uint64_t version) const override {
    ++(*opened_)[version];
    if (not_found_[version] > 0) {
      --not_found_[version];
      return absl::NotFoundError("reading popular items of version " + std::to_string(version));
    }
    return store_->OpenVersion(version);
  }
  absl::StatusOr<std::unique_ptr<storage::IndexWriter>> CreateIndexWriter(
      uint64_t version, affinity::v1::IndexHeader header) override {
    return store_->CreateIndexWriter(version, std::move(header));
  }
  absl::Status DeleteVersion(uint64_t version) override { return store_->DeleteVersion(version); }

  // How many times OpenVersion(version) was called (shared with the test).
  std::shared_ptr<std::map<uint64_t, int>> opened() const { return opened_; }

 private:
  std::unique_ptr<ModelStore> store_;
  mutable std::map<uint64_t, int> not_found_;
  std::shared_ptr<std::map<uint64_t, int>> opened_ = std::make_shared<std::map<uint64_t, int>>();
};

struct Fixture {
  // Versions 1 and 2 published; the manager follows the store, and its
  // OpenVersion misses version 2's records `misses` times.
  explicit Fixture(int misses) : dir(storage::testing::MakeTestDir()) {
    auto writer = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    EXPECT_TRUE(writer.ok()) << writer.status();
    for (uint32_t seed : {1u, 2u}) {
      EXPECT_TRUE(
          testing::Publish(writer->get(), testing::MakeImplicitModel(seed, 10, 20, 8, 5)).ok());
    }
    auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
    EXPECT_TRUE(follower.ok()) << follower.status();
    auto store = std::make_unique<UnseenRecordsStore>(std::move(*follower),
                                                      std::map<uint64_t, int>{{2, misses}});
    opened = store->opened();
    manager = std::make_unique<ModelManager>(std::move(store), ModelManagerOptions{});
    manager->AddFailureListener([this](uint64_t version, const absl::Status&) {
      failures.push_back(version);
    });
  }

  std::string dir;
  std::shared_ptr<std::map<uint64_t, int>> opened;
  std::unique_ptr<ModelManager> manager;
  std::vector<uint64_t> failures;
};

TEST(UnseenRecordsTest, AVersionWhoseRecordsTheCatchUpMissedLoadsAtTheNextPoll) {
  Fixture f(/*misses=*/1);
  EXPECT_TRUE(absl::IsNotFound(f.manager->Poll()));
  EXPECT_EQ(f.manager->ControlRoute().model, nullptr);
  EXPECT_TRUE(f.failures.empty()) << "not reported yet";

  ASSERT_TRUE(f.manager->Poll().ok());
  ASSERT_NE(f.manager->ControlRoute().model, nullptr);
  EXPECT_EQ(f.manager->ControlRoute().model->version, 2u);
  EXPECT_TRUE(f.failures.empty());
  EXPECT_EQ((*f.opened)[2], 2);
}

TEST(UnseenRecordsTest, ANotFoundThatRepeatsIsReportedOnceAndNotRetried) {
  Fixture f(/*misses=*/1000);
  EXPECT_TRUE(absl::IsNotFound(f.manager->Poll()));
  EXPECT_TRUE(absl::IsNotFound(f.manager->Poll()));
  EXPECT_EQ(f.failures, std::vector<uint64_t>{2});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(absl::IsNotFound(f.manager->Poll()));
  EXPECT_EQ(f.failures, std::vector<uint64_t>{2}) << "reported once";
  EXPECT_EQ((*f.opened)[2], 2) << "not loaded again until the rollout changes";
  EXPECT_EQ(f.manager->ControlRoute().model, nullptr);
}

}  // namespace
}  // namespace affinity::server
