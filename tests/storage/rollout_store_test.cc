// The rollout state in the model store: defaults, resolution against the
// published versions, optimistic concurrency, history, eligibility, and
// versions the rollout refers to never being deleted.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/model_store.h"
#include "storage/rollout_resolver.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::v1::NewVersionPolicy;
using ::affinity::v1::ResolvedRollout;
using ::affinity::v1::RolloutChange;
using ::affinity::v1::RolloutState;
using ::testing::HasSubstr;
using testing::MakeTestDir;
using testing::PublishModel;
using testing::SmallModel;

std::unique_ptr<ModelStore> OpenReadWrite(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// "control=1:9000 treatment=3:1000" style summary of the resolved arms.
std::string Arms(const ResolvedRollout& r) {
  std::string out;
  for (const auto& arm : r.arms()) {
    if (!out.empty()) out += " ";
    out += arm.name() + "=" + std::to_string(arm.version()) + ":" +
           std::to_string(arm.basis_points());
  }
  return out;
}

RolloutChangeInfo Change(const std::string& action) {
  return RolloutChangeInfo{"tester@host", action, "because"};
}

// Versions 1..3 eligible, 4 refused by the gate.
void PublishFour(ModelStore& store) {
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    ASSERT_EQ(PublishModel(store, SmallModel::Make(2, 2, 2, seed)), seed);
  }
  SmallModel gated = SmallModel::Make(2, 2, 2, 4);
  gated.ineligible = true;
  ASSERT_EQ(PublishModel(store, gated), 4u);
}

TEST(RolloutStoreTest, DefaultControlFollowsNewestEligibleVersion) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(absl::IsNotFound(store->LiveVersion().status()));
  PublishFour(*store);
  absl::StatusOr<RolloutState> state = store->GetRollout();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->revision(), 0u);
  EXPECT_EQ(state->control_version(), 0u);
  absl::StatusOr<ResolvedRollout> resolved = store->ResolvedRollout();
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(Arms(*resolved), "control=3:10000");
  EXPECT_EQ(store->LiveVersion().value_or(0), 3u);
}

TEST(RolloutStoreTest, ArmsAreStoredWithHistoryAndSurviveReopening) {
  const std::string dir = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    PublishFour(*store);
    RolloutState next;
    next.set_salt("exp-1");
    next.set_control_version(1);
    auto* arm = next.add_arms();
    arm->set_name("treatment");
    arm->set_version(3);
    arm->set_basis_points(1000);
    absl::StatusOr<RolloutState> stored = store->UpdateRollout(0, next, Change("set"));
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->revision(), 1u);
    EXPECT_EQ(stored->updated_by(), "tester@host");
  }
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<ResolvedRollout> resolved = store->ResolvedRollout();
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->salt(), "exp-1");
  EXPECT_EQ(Arms(*resolved), "control=1:9000 treatment=3:1000");
  EXPECT_EQ(store->LiveVersion().value_or(0), 1u);

  absl::StatusOr<std::vector<RolloutChange>> history = store->RolloutHistory(10);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 1u);
  const RolloutChange& change = (*history)[0];
  EXPECT_EQ(change.revision(), 1u);
  EXPECT_EQ(change.action(), "set");
  EXPECT_EQ(change.by(), "tester@host");
  EXPECT_EQ(change.reason(), "because");
  EXPECT_EQ(change.before().arms_size(), 0);
  EXPECT_EQ(change.after().arms(0).version(), 3u);
  EXPECT_GT(change.at_unix(), 1600000000);
}

TEST(RolloutStoreTest, StaleRevisionIsAbortedAndNothingChanges) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  PublishFour(*store);
  RolloutState next;
  next.set_control_version(2);
  ASSERT_TRUE(store->UpdateRollout(0, next, Change("pin")).ok());
  next.set_control_version(1);
  absl::Status stale = store->UpdateRollout(0, next, Change("pin")).status();
  EXPECT_TRUE(absl::IsAborted(stale)) << stale;
  EXPECT_EQ(store->LiveVersion().value_or(0), 2u);
  EXPECT_EQ(store->RolloutHistory(10)->size(), 1u);
}

TEST(RolloutStoreTest, RefusesIneligibleUnknownAndMalformedStates) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  PublishFour(*store);
  RolloutState next;
  auto* arm = next.add_arms();
  arm->set_name("treatment");
  arm->set_version(4);
  arm->set_basis_points(500);
  absl::Status gated = store->UpdateRollout(0, next, Change("set")).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(gated)) << gated;
  EXPECT_THAT(gated.message(), HasSubstr("gate refused"));

  arm->set_version(9);
  EXPECT_TRUE(absl::IsNotFound(store->UpdateRollout(0, next, Change("set")).status()));

  arm->set_version(3);
  arm->set_basis_points(10001);
  absl::Status too_much = store->UpdateRollout(0, next, Change("set")).status();
  EXPECT_TRUE(absl::IsInvalidArgument(too_much)) << too_much;
  EXPECT_THAT(too_much.message(), HasSubstr("arms[0].basis_points"));

  arm->set_basis_points(100);
  arm->set_name("Treatment!");
  EXPECT_THAT(store->UpdateRollout(0, next, Change("set")).status().message(),
              HasSubstr("arms[0].name"));
  arm->set_name("control");
  EXPECT_THAT(store->UpdateRollout(0, next, Change("set")).status().message(),
              HasSubstr("reserved"));

  // Pinning a gated version as live is refused the same way.
  absl::Status pin = store->SetLiveVersion(4);
  EXPECT_TRUE(absl::IsFailedPrecondition(pin)) << pin;
  EXPECT_EQ(store->RolloutHistory(10)->size(), 0u);
}

TEST(RolloutStoreTest, CanaryPolicyPutsTheNewestEligibleVersionInTheCanaryArm) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 1)), 1u);
  RolloutState next;
  next.set_control_version(1);
  next.mutable_policy()->set_mode(NewVersionPolicy::CANARY);
  next.mutable_policy()->set_canary_basis_points(1000);
  ASSERT_TRUE(store->UpdateRollout(0, next, Change("policy")).ok());
  EXPECT_EQ(Arms(*store->ResolvedRollout()), "control=1:10000");
  ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 2)), 2u);
  EXPECT_EQ(Arms(*store->ResolvedRollout()), "control=1:9000 canary=2:1000");
  // A gated version does not become the canary.
  SmallModel gated = SmallModel::Make(2, 2, 2, 3);
  gated.ineligible = true;
  ASSERT_EQ(PublishModel(*store, gated), 3u);
  EXPECT_EQ(Arms(*store->ResolvedRollout()), "control=1:9000 canary=2:1000");
  EXPECT_EQ(store->LiveVersion().value_or(0), 1u);
  // A rolled-back canary stays out; the next version becomes the canary.
  next = *store->GetRollout();
  next.set_canary_after_version(2);
  ASSERT_TRUE(store->UpdateRollout(next.revision(), next, Change("rollback")).ok());
  EXPECT_EQ(Arms(*store->ResolvedRollout()), "control=1:10000");
  ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, 4)), 4u);
  EXPECT_EQ(Arms(*store->ResolvedRollout()), "control=1:9000 canary=4:1000");
}

TEST(RolloutStoreTest, VersionsTheRolloutRefersToAreNeverDeleted) {
  std::unique_ptr<ModelStore> store = OpenReadWrite(MakeTestDir());
  ASSERT_NE(store, nullptr);
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    ASSERT_EQ(PublishModel(*store, SmallModel::Make(2, 2, 2, seed)), seed);
  }
  RolloutState next;
  next.set_control_version(2);
  next.set_previous_control_version(1);
  auto* arm = next.add_arms();
  arm->set_name("treatment");
  arm->set_version(3);
  arm->set_basis_points(2000);
  next.mutable_shadow()->set_version(4);
  next.mutable_shadow()->set_basis_points(500);
  ASSERT_TRUE(store->UpdateRollout(0, next, Change("set")).ok());
  for (uint64_t v : {1u, 2u, 3u, 4u}) {
    absl::Status s = store->DeleteVersion(v);
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << v << ": " << s;
  }
  EXPECT_THAT(store->DeleteVersion(3).message(), HasSubstr("arm treatment"));
  EXPECT_THAT(store->DeleteVersion(4).message(), HasSubstr("shadow"));
  EXPECT_THAT(store->DeleteVersion(2).message(), HasSubstr("pinned"));
  EXPECT_THAT(store->DeleteVersion(1).message(), HasSubstr("rollback returns to"));
  EXPECT_TRUE(store->DeleteVersion(5).ok());
}

TEST(RolloutStoreTest, PinFromAnOlderReleaseIsReadAndReplacedByTheFirstWrite) {
  const std::string dir = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
    ASSERT_NE(store, nullptr);
    PublishFour(*store);
  }
  {
    // What an older release wrote for `affinity-train rollback --version=1`.
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir + "/models", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), keys::Live(), keys::EncodeBe64(1)).ok());
  }
  std::unique_ptr<ModelStore> store = OpenReadWrite(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LiveVersion().value_or(0), 1u);
  ASSERT_TRUE(store->SetLiveVersion(std::nullopt).ok());
  EXPECT_EQ(store->LiveVersion().value_or(0), 3u);
  absl::StatusOr<std::vector<RolloutChange>> history = store->RolloutHistory(10);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].before().control_version(), 1u);
  EXPECT_EQ((*history)[0].action(), "unpin");
}

TEST(RolloutStoreTest, FollowerSeesARolloutChangeAfterRefresh) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<ModelStore> writer = OpenReadWrite(dir);
  ASSERT_NE(writer, nullptr);
  PublishFour(*writer);
  absl::StatusOr<std::unique_ptr<ModelStore>> follower =
      ModelStore::Open(dir, ModelStore::Mode::kFollower);
  ASSERT_TRUE(follower.ok()) << follower.status();
  EXPECT_EQ((*follower)->LiveVersion().value_or(0), 3u);
  ASSERT_TRUE(writer->SetLiveVersion(2).ok());
  ASSERT_TRUE((*follower)->Refresh().ok());
  EXPECT_EQ((*follower)->LiveVersion().value_or(0), 2u);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      (*follower)->UpdateRollout(1, RolloutState(), Change("set")).status()));
}

}  // namespace
}  // namespace affinity::storage
