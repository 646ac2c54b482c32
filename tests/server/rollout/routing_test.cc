// A/B routing on the serving path: RoutingTables built by ModelManager from
// the resolved rollout of a real store route 100,000 synthetic users in the
// configured fractions, each user exactly to the arm the published bucket
// contract gives (computed here with OpenSSL, not with server/rollout), the
// same arm from every manager of the store, and ramps move users only as
// stated. Then real Recommend calls through the gRPC service wired as
// server/main.cc wires it: the answer's arm, version and request_id agree
// with the table, session ids route anonymous requests, a forced arm is
// honoured and flagged, an unknown one is INVALID_ARGUMENT naming the arms.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/lifecycle/model_manager.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using storage::ModelStore;
using ::testing::HasSubstr;
using testing::Arm;
using testing::ContractArm;
using testing::ExpectedArmShare;
using testing::SyntheticUser;

constexpr int kUsers = 100000;
constexpr double kTolerance = 0.005;  // half a percentage point

std::unique_ptr<ModelManager> Manager(const std::string& dir) {
  auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(follower.ok()) << follower.status();
  if (!follower.ok()) return nullptr;
  return std::make_unique<ModelManager>(*std::move(follower), ModelManagerOptions{});
}

// The arm of every synthetic user under `table`.
std::vector<std::string> RouteAll(const RoutingTable& table) {
  std::vector<std::string> arms;
  arms.reserve(kUsers);
  for (int i = 0; i < kUsers; ++i) {
    absl::StatusOr<RoutingTable::Route> route = table.RouteUnit(SyntheticUser(i), "");
    arms.push_back(route.ok() ? route->arm : "(error)");
  }
  return arms;
}

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    rw_ = std::move(*rw);
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      auto version = server::testing::Publish(
          rw_.get(), server::testing::MakeImplicitModel(seed, 40, 60, 8, 10));
      ASSERT_TRUE(version.ok()) << version.status();
      ASSERT_EQ(*version, seed);
    }
    // Control follows the newest version unless pinned: pin version 1.
    ASSERT_TRUE(testing::EditRollout(*rw_, "pin", [](affinity::v1::RolloutState& s) {
                  s.set_control_version(1);
                }).ok());
  }

  // Checks every user against the contract and the configured fractions;
  // returns the per-user arms.
  std::vector<std::string> CheckFractions(ModelManager& manager, const std::string& salt,
                                          const std::vector<ExpectedArmShare>& shares) {
    EXPECT_TRUE(manager.Poll().ok());
    std::shared_ptr<const RoutingTable> table = manager.routing();
    EXPECT_NE(table, nullptr);
    if (table == nullptr) return {};
    EXPECT_EQ(table->salt(), salt);
    std::vector<std::string> arms = RouteAll(*table);
    std::map<std::string, int> counts;
    int off_contract = 0;
    for (int i = 0; i < kUsers; ++i) {
      ++counts[arms[i]];
      if (arms[i] != ContractArm(salt, SyntheticUser(i), shares)) ++off_contract;
    }
    EXPECT_EQ(off_contract, 0) << "users routed elsewhere than the bucket contract says";
    const std::map<std::string, double> fractions = testing::Fractions(counts);
    std::vector<std::string> printed;
    for (const ExpectedArmShare& share : shares) {
      const auto it = fractions.find(share.name);
      const double observed = it == fractions.end() ? 0.0 : it->second;
      EXPECT_NEAR(observed, share.basis_points / 10000.0, kTolerance) << share.name;
      printed.push_back(absl::StrCat(share.name, " ", share.basis_points / 100.0, "% configured, ",
                                     absl::StrFormat("%.3f", observed * 100), "% observed"));
    }
    EXPECT_EQ(counts.size(), shares.size()) << "users went to an arm not configured";
    std::printf("arm fractions over %d users (salt \"%s\"): %s\n", kUsers, salt.c_str(),
                absl::StrJoin(printed, "; ").c_str());
    return arms;
  }

  std::string dir_;
  std::unique_ptr<ModelStore> rw_;
};

TEST_F(RoutingTest, TwoArmFractionsFollowTheBucketContract) {
  ASSERT_TRUE(testing::SetArms(*rw_, "exp-2arm", {Arm("treatment", 2, 1000)}).ok());
  std::unique_ptr<ModelManager> manager = Manager(dir_);
  ASSERT_NE(manager, nullptr);
  CheckFractions(*manager, "exp-2arm", {{"control", 9000}, {"treatment", 1000}});
  // Each arm's route carries its own version.
  std::shared_ptr<const RoutingTable> table = manager->routing();
  for (int i = 0; i < 200; ++i) {
    auto route = table->RouteUnit(SyntheticUser(i), "");
    ASSERT_TRUE(route.ok());
    EXPECT_EQ(route->model->version, route->arm == "control" ? 1u : 2u);
    EXPECT_FALSE(route->forced);
  }
}

TEST_F(RoutingTest, ThreeArmFractionsFollowTheBucketContract) {
  ASSERT_TRUE(
      testing::SetArms(*rw_, "exp-3arm", {Arm("wide", 2, 2000), Arm("narrow", 3, 1000)}).ok());
  std::unique_ptr<ModelManager> manager = Manager(dir_);
  ASSERT_NE(manager, nullptr);
  CheckFractions(*manager, "exp-3arm", {{"control", 7000}, {"wide", 2000}, {"narrow", 1000}});
}

TEST_F(RoutingTest, EveryManagerOfTheStoreRoutesEveryUserAlike) {
  ASSERT_TRUE(testing::SetArms(*rw_, "exp-same", {Arm("treatment", 2, 3000)}).ok());
  std::unique_ptr<ModelManager> first = Manager(dir_);
  std::unique_ptr<ModelManager> second = Manager(dir_);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Poll().ok());
  ASSERT_TRUE(second->Poll().ok());
  const std::vector<std::string> a = RouteAll(*first->routing());
  const std::vector<std::string> b = RouteAll(*second->routing());
  const std::vector<std::string> again = RouteAll(*first->routing());
  int differ = 0;
  int unstable = 0;
  for (int i = 0; i < kUsers; ++i) {
    differ += a[i] != b[i];
    unstable += a[i] != again[i];
  }
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(unstable, 0);
  // Both arms are in use, so agreement is not agreement on one arm.
  EXPECT_GT(std::count(a.begin(), a.end(), "treatment"), kUsers / 4);
  EXPECT_GT(std::count(a.begin(), a.end(), "control"), kUsers / 2);
  // Through RouteRequest (the service's entry), too.
  for (int i = 0; i < 1000; ++i) {
    auto route = second->RouteRequest(SyntheticUser(i), "");
    ASSERT_TRUE(route.ok());
    EXPECT_EQ(route->arm, a[i]);
  }
}

TEST_F(RoutingTest, RampingMovesUsersOnlyBetweenControlAndTheResizedArm) {
  const std::string salt = "exp-ramp";
  std::unique_ptr<ModelManager> manager = Manager(dir_);
  ASSERT_NE(manager, nullptr);
  ASSERT_TRUE(testing::SetArms(*rw_, salt, {Arm("treatment", 2, 1000)}).ok());
  const std::vector<std::string> at10 =
      CheckFractions(*manager, salt, {{"control", 9000}, {"treatment", 1000}});
  ASSERT_TRUE(testing::SetArms(*rw_, salt, {Arm("treatment", 2, 2000)}).ok());
  const std::vector<std::string> at20 =
      CheckFractions(*manager, salt, {{"control", 8000}, {"treatment", 2000}});
  ASSERT_TRUE(testing::SetArms(*rw_, salt, {Arm("treatment", 2, 1000)}).ok());
  const std::vector<std::string> back =
      CheckFractions(*manager, salt, {{"control", 9000}, {"treatment", 1000}});
  ASSERT_EQ(at10.size(), static_cast<size_t>(kUsers));
  ASSERT_EQ(at20.size(), static_cast<size_t>(kUsers));
  ASSERT_EQ(back.size(), static_cast<size_t>(kUsers));

  int raised = 0, wrong_raise = 0, lowered = 0, wrong_lower = 0;
  for (int i = 0; i < kUsers; ++i) {
    if (at10[i] != at20[i]) {
      if (at10[i] == "control" && at20[i] == "treatment") {
        ++raised;
      } else {
        ++wrong_raise;
      }
    }
    if (at20[i] != back[i]) {
      if (at20[i] == "treatment" && back[i] == "control") {
        ++lowered;
      } else {
        ++wrong_lower;
      }
    }
  }
  EXPECT_EQ(wrong_raise, 0) << "raising 10% -> 20% moved users other than control -> treatment";
  EXPECT_EQ(wrong_lower, 0) << "lowering 20% -> 10% moved users other than treatment -> control";
  EXPECT_NEAR(raised / double(kUsers), 0.10, kTolerance);
  EXPECT_EQ(lowered, raised);
  EXPECT_EQ(back, at10) << "back at 10%, users are not where they were at 10%";
}

TEST_F(RoutingTest, ResizingTheFirstArmLeavesTheLaterArmsUsersInPlace) {
  const std::string salt = "exp-ramp3";
  std::unique_ptr<ModelManager> manager = Manager(dir_);
  ASSERT_NE(manager, nullptr);
  ASSERT_TRUE(testing::SetArms(*rw_, salt, {Arm("a", 2, 1000), Arm("b", 3, 1000)}).ok());
  const std::vector<std::string> before =
      CheckFractions(*manager, salt, {{"control", 8000}, {"a", 1000}, {"b", 1000}});
  ASSERT_TRUE(testing::SetArms(*rw_, salt, {Arm("a", 2, 3000), Arm("b", 3, 1000)}).ok());
  const std::vector<std::string> after =
      CheckFractions(*manager, salt, {{"control", 6000}, {"a", 3000}, {"b", 1000}});
  ASSERT_EQ(before.size(), after.size());
  int moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == "b" || after[i] == "b") {
      EXPECT_EQ(before[i], after[i]) << SyntheticUser(i);
    }
    if (before[i] != after[i]) {
      EXPECT_EQ(before[i], "control");
      EXPECT_EQ(after[i], "a");
      ++moved;
    }
  }
  EXPECT_NEAR(moved / double(kUsers), 0.20, kTolerance);
}

// Real Recommend calls through the gRPC service.
class RoutingServiceTest : public RoutingTest {
 protected:
  void SetUp() override {
    RoutingTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(testing::SetArms(*rw_, salt_, {Arm("treatment", 2, 4000)}).ok());
    auto stack = testing::ServingStack::Start(dir_, {});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    ASSERT_TRUE(stack_->models().Poll().ok());
    table_ = stack_->models().routing();
    ASSERT_NE(table_, nullptr);
  }

  // The arm the table gives `unit`, checked against the contract.
  std::string TableArm(const std::string& unit) {
    auto route = table_->RouteUnit(unit, "");
    EXPECT_TRUE(route.ok());
    const std::string arm = route.ok() ? route->arm : "";
    EXPECT_EQ(arm, ContractArm(salt_, unit, {{"control", 6000}, {"treatment", 4000}})) << unit;
    return arm;
  }

  static uint64_t VersionOf(const std::string& arm) { return arm == "treatment" ? 2 : 1; }

  const std::string salt_ = "exp-service";
  std::unique_ptr<testing::ServingStack> stack_;
  std::shared_ptr<const RoutingTable> table_;
};

TEST_F(RoutingServiceTest, AnswersCarryTheArmTheTableGivesTheUser) {
  std::map<std::string, uint64_t> per_arm;
  for (int i = 0; i < 300; ++i) {
    // Users of the model (scored) and users it does not know (fallback).
    const std::string user =
        i % 2 == 0 ? server::testing::TestModel::UserId(i % 40) : SyntheticUser(i);
    RecommendRequest request;
    request.set_user_id(user);
    request.set_k(5);
    RecommendResponse response;
    const grpc::Status status = stack_->Recommend(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::string arm = TableArm(user);
    EXPECT_EQ(response.arm(), arm) << user;
    EXPECT_EQ(response.model_version(), VersionOf(arm)) << user;
    EXPECT_EQ(response.items_size(), 5);
    // r1.<version>.<arm>.<b: drawn by the bucket function>.<16 hex digits>
    EXPECT_THAT(response.request_id(),
                ::testing::MatchesRegex(absl::StrCat("r1\\.", VersionOf(arm), "\\.", arm,
                                                     "\\.b\\.[0-9a-f]{16}")));
    ++per_arm[arm];
  }
  ASSERT_EQ(per_arm.size(), 2u) << "both arms should have been drawn";
  for (const auto& [arm, n] : per_arm) {
    EXPECT_EQ(stack_->arm_metrics().requests(arm, VersionOf(arm), false), n) << arm;
  }
  // Every user keeps the arm on the next call.
  for (int i = 1; i < 300; i += 2) {
    RecommendRequest request;
    request.set_user_id(SyntheticUser(i));
    request.set_k(3);
    RecommendResponse response;
    ASSERT_TRUE(stack_->Recommend(request, &response).ok());
    EXPECT_EQ(response.arm(), TableArm(SyntheticUser(i)));
  }
}

TEST_F(RoutingServiceTest, SessionIdRoutesRequestsWithoutAUser) {
  int treatment = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string session = absl::StrCat("session-", i);
    RecommendRequest request;
    request.set_session_id(session);
    request.set_k(4);
    auto* recent = request.add_recent();
    recent->set_item_id(server::testing::TestModel::ItemId(i % 60));
    recent->set_weight(1);
    RecommendResponse response;
    const grpc::Status status = stack_->Recommend(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::string arm = TableArm(session);
    EXPECT_EQ(response.arm(), arm) << session;
    EXPECT_EQ(response.model_version(), VersionOf(arm));
    treatment += arm == "treatment";
  }
  EXPECT_GT(treatment, 40);
  EXPECT_LT(treatment, 160);

  // With a user id too, the user decides: pick a user and a session whose
  // buckets fall in different arms.
  std::string user, session;
  for (int i = 0; user.empty() || session.empty(); ++i) {
    if (user.empty() && TableArm(SyntheticUser(i)) == "treatment") user = SyntheticUser(i);
    if (session.empty() && TableArm(absl::StrCat("s-", i)) == "control") {
      session = absl::StrCat("s-", i);
    }
  }
  RecommendRequest both;
  both.set_user_id(user);
  both.set_session_id(session);
  both.set_k(3);
  RecommendResponse response;
  ASSERT_TRUE(stack_->Recommend(both, &response).ok());
  EXPECT_EQ(response.arm(), "treatment");

  // Neither: control.
  for (int i = 0; i < 20; ++i) {
    RecommendRequest anonymous;
    anonymous.set_k(3);
    auto* recent = anonymous.add_recent();
    recent->set_item_id(server::testing::TestModel::ItemId(i));
    recent->set_weight(2);
    ASSERT_TRUE(stack_->Recommend(anonymous, &response).ok());
    EXPECT_EQ(response.arm(), "control");
    EXPECT_EQ(response.model_version(), 1u);
  }
}

TEST_F(RoutingServiceTest, AForcedArmIsHonouredAndFlagged) {
  // Users whose bucket is control, forced into treatment, and the reverse.
  int forced_calls = 0;
  for (int i = 0; forced_calls < 20; ++i) {
    const std::string user = SyntheticUser(i);
    const std::string drawn = TableArm(user);
    const std::string other = drawn == "control" ? "treatment" : "control";
    RecommendRequest request;
    request.set_user_id(user);
    request.set_k(3);
    request.set_arm(other);
    RecommendResponse response;
    const grpc::Status status = stack_->Recommend(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.arm(), other);
    EXPECT_EQ(response.model_version(), VersionOf(other));
    EXPECT_THAT(response.request_id(),
                ::testing::MatchesRegex(absl::StrCat("r1\\.", VersionOf(other), "\\.", other,
                                                     "\\.f\\.[0-9a-f]{16}")));
    ++forced_calls;
  }
  // Counted apart from drawn traffic.
  EXPECT_EQ(stack_->arm_metrics().requests("treatment", 2, true) +
                stack_->arm_metrics().requests("control", 1, true),
            20u);
  EXPECT_EQ(stack_->arm_metrics().requests("treatment", 2, false) +
                stack_->arm_metrics().requests("control", 1, false),
            0u);
}

TEST_F(RoutingServiceTest, AnUnknownForcedArmIsInvalidArgumentNamingTheArms) {
  RecommendRequest request;
  request.set_user_id(SyntheticUser(1));
  request.set_k(3);
  request.set_arm("canary");
  RecommendResponse response;
  const grpc::Status status = stack_->Recommend(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("arm: \"canary\" is not an arm of the rollout"));
  EXPECT_THAT(status.error_message(), HasSubstr("control, treatment"));
  EXPECT_EQ(response.items_size(), 0);
  EXPECT_TRUE(response.request_id().empty());
}

}  // namespace
}  // namespace affinity::server
