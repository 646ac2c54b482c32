// A version that cannot be loaded, on the serving path (server wired as
// server/main.cc wires it, ModelManager driven by Poll): stored metadata
// claiming 2^40 items, a model beyond the loader's memory bound (with
// --scorer=int8, the rule sets' copies' budget counted), a warm-up
// hook that throws. Each load fails as a status naming the version,
// reported once to the failure listeners however many polls follow, while
// the version already serving keeps answering.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/lifecycle/load_budget.h"
#include "server/lifecycle/model_manager.h"
#include "storage/model_store.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using server::testing::TestModel;
using storage::ModelStore;
using ::testing::HasSubstr;

// A store with versions 1 (20 items) and 2 (`items2` items), control
// pinned to version 1.
std::string StoreWithTwoVersions(int items2) {
  const std::string dir = storage::testing::MakeTestDir();
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return dir;
  for (uint32_t version : {1u, 2u}) {
    const int items = version == 1 ? 20 : items2;
    EXPECT_EQ(server::testing::Publish(
                  store->get(), server::testing::MakeImplicitModel(version, 30, items, 8, 5))
                  .value_or(0),
              version);
  }
  EXPECT_TRUE((*store)->SetLiveVersion(1).ok());
  return dir;
}

// Lets control follow the newest version (2) again.
void Unpin(const std::string& dir) {
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->SetLiveVersion(std::nullopt).ok());
}

RecommendRequest KnownUser() {
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(3));
  request.set_k(5);
  return request;
}

struct Failure {
  uint64_t version;
  absl::Status status;
};

TEST(LoadFailureTest, HugeItemCountFailsOnceWhileTheServingVersionAnswers) {
  const std::string dir = StoreWithTwoVersions(20);
  storage::testing::EditStoredMetadata(
      dir, 2, [](affinity::v1::ModelMetadata& m) { m.set_items(int64_t{1} << 40); });
  auto stack = testing::ServingStack::Start(dir, {});
  ASSERT_TRUE(stack.ok()) << stack.status();
  std::vector<Failure> failures;
  (*stack)->models().AddFailureListener(
      [&](uint64_t version, const absl::Status& status) { failures.push_back({version, status}); });
  ASSERT_TRUE((*stack)->models().Poll().ok());
  ASSERT_EQ((*stack)->models().ServingVersions().at("control"), 1u);

  Unpin(dir);
  const absl::Status poll = (*stack)->models().Poll();
  EXPECT_TRUE(absl::IsDataLoss(poll)) << poll;
  EXPECT_THAT(poll.message(), HasSubstr("model version 2"));
  EXPECT_THAT(poll.message(), HasSubstr("1099511627776 items"));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE((*stack)->models().Poll().ok());

  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].version, 2u);
  EXPECT_THAT(failures[0].status.message(), HasSubstr("version 2"));
  EXPECT_THAT((*stack)->RenderMetrics(), HasSubstr("affinity_model_load_failures_total 1\n"));
  EXPECT_EQ((*stack)->models().ServingVersions().at("control"), 1u);
  RecommendResponse response;
  const grpc::Status served = (*stack)->Recommend(KnownUser(), &response);
  ASSERT_TRUE(served.ok()) << served.error_message();
  EXPECT_EQ(response.model_version(), 1u);
  EXPECT_EQ(response.items_size(), 5);
}

std::unique_ptr<ModelManager> Manager(const std::string& dir, ModelManagerOptions options) {
  auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(follower.ok()) << follower.status();
  if (!follower.ok()) return nullptr;
  return std::make_unique<ModelManager>(*std::move(follower), std::move(options));
}

TEST(LoadFailureTest, VersionBeyondTheMemoryBoundIsResourceExhausted) {
  // Version 1: 20 items of 8 dims (a few KiB loaded); version 2: 5000.
  const std::string dir = StoreWithTwoVersions(5000);
  ModelManagerOptions options;
  options.scorer.max_load_bytes = 64 << 10;
  std::unique_ptr<ModelManager> manager = Manager(dir, options);
  ASSERT_NE(manager, nullptr);
  int failures = 0;
  manager->AddFailureListener([&](uint64_t, const absl::Status&) { ++failures; });
  ASSERT_TRUE(manager->Poll().ok());

  Unpin(dir);
  const absl::Status poll = manager->Poll();
  EXPECT_TRUE(absl::IsResourceExhausted(poll)) << poll;
  EXPECT_THAT(poll.message(), HasSubstr("model version 2"));
  EXPECT_THAT(poll.message(), HasSubstr("65536 bytes"));
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(manager->ServingVersions().at("control"), 1u);
}

// With --scorer=int8 the rule sets' copies' budget is part of a load's
// memory: a bound that holds version 2 without copies refuses it with the
// default budget (half the int8 copy) or a fixed one.
TEST(LoadFailureTest, TheRuleSetCopiesBudgetCountsAgainstTheMemoryBound) {
  ScorerOptions without_copies;
  without_copies.kind = ScorerKind::kInt8;
  without_copies.int8_allowed_copy_bytes = 0;
  const uint64_t bound =
      absl::Uint128Low64(EstimateLoadBytes(5000, 8, without_copies)) + 1024;
  for (const int64_t copies : {int64_t{0}, int64_t{-1}, int64_t{64} << 10}) {
    const std::string dir = StoreWithTwoVersions(5000);
    ModelManagerOptions options;
    options.scorer.kind = ScorerKind::kInt8;
    options.scorer.int8_allowed_copy_bytes = copies;
    options.scorer.max_load_bytes = bound;
    std::unique_ptr<ModelManager> manager = Manager(dir, options);
    ASSERT_NE(manager, nullptr);
    ASSERT_TRUE(manager->Poll().ok());
    Unpin(dir);
    const absl::Status poll = manager->Poll();
    if (copies == 0) {
      EXPECT_TRUE(poll.ok()) << poll;
      EXPECT_EQ(manager->ServingVersions().at("control"), 2u);
    } else {
      EXPECT_TRUE(absl::IsResourceExhausted(poll)) << copies << ": " << poll;
      EXPECT_EQ(manager->ServingVersions().at("control"), 1u) << copies;
    }
  }
}

TEST(LoadFailureTest, WarmUpThatThrowsFailsTheLoadNotTheServer) {
  const std::string dir = StoreWithTwoVersions(20);
  std::unique_ptr<ModelManager> manager = Manager(dir, {});
  ASSERT_NE(manager, nullptr);
  manager->SetWarmUp([](const LoadedModel& model) {
    if (model.version == 2) throw std::runtime_error("rules could not be prepared");
  });
  ASSERT_TRUE(manager->Poll().ok());

  Unpin(dir);
  const absl::Status poll = manager->Poll();
  EXPECT_TRUE(absl::IsInternal(poll)) << poll;
  EXPECT_THAT(poll.message(), HasSubstr("model version 2"));
  EXPECT_THAT(poll.message(), HasSubstr("rules could not be prepared"));
  EXPECT_EQ(manager->ServingVersions().at("control"), 1u);
}

}  // namespace
}  // namespace affinity::server
