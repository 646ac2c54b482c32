// Several affinity-server processes following one store (--poll_ms left at
// its default): they route every user alike, as the bucket contract says,
// and apply a rollout change, whether written through ModelStore or with
// `affinity rollout`, within a second; a rollback reaches every server
// within a second (the times are printed; the median of several rollbacks
// is the figure quoted for the rollout).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
#include "tests/server/rollout/server_child.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using storage::ModelStore;
using testing::Arm;
using testing::ContractArm;
using testing::ExpectedArmShare;
using testing::RunCli;
using testing::ServerChild;
using testing::TestModel;
using Clock = std::chrono::steady_clock;

constexpr int kModelUsers = 200;
const char kSalt[] = "exp-fleet";

std::vector<ExpectedArmShare> Shares(int32_t treatment) {
  return {{"control", 10000 - treatment}, {"treatment", treatment}};
}

// A model user whose arm is `from` at `before` basis points of treatment and
// `to` at `after`.
std::string UserMoving(int32_t before, const std::string& from, int32_t after,
                       const std::string& to) {
  for (int u = 0; u < kModelUsers; ++u) {
    const std::string user = TestModel::UserId(u);
    if (ContractArm(kSalt, user, Shares(before)) == from &&
        ContractArm(kSalt, user, Shares(after)) == to) {
      return user;
    }
  }
  return "";
}

class FleetBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    for (uint32_t seed = 1; seed <= 2; ++seed) {
      auto version = server::testing::Publish(
          rw->get(), server::testing::MakeImplicitModel(seed, kModelUsers, 80, 8, 10));
      ASSERT_TRUE(version.ok()) << version.status();
    }
    ASSERT_TRUE(testing::EditRollout(**rw, "pin", [](affinity::v1::RolloutState& s) {
                  s.set_control_version(1);
                }).ok());
    ASSERT_TRUE(testing::SetArms(**rw, kSalt, {Arm("treatment", 2, 3000)}).ok());
  }

  void StartServers(int n) {
    for (int i = 0; i < n; ++i) {
      auto child = ServerChild::Start(dir_, absl::StrCat("fleet-", i));
      ASSERT_TRUE(child.ok()) << child.status();
      servers_.push_back(*std::move(child));
    }
  }

  void TearDown() override {
    for (auto& server : servers_) EXPECT_EQ(server->Stop(SIGTERM), 0) << server->log();
  }

  // Sends `user` to every server until each answers from `arm`; returns the
  // seconds from `since` until the last one did (a failure after 10 s).
  double SecondsUntilAllRoute(const std::string& user, const std::string& arm,
                              Clock::time_point since) {
    std::vector<double> switched(servers_.size(), -1);
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(10);
    RecommendRequest request;
    request.set_user_id(user);
    request.set_k(3);
    while (Clock::now() < give_up) {
      bool all = true;
      for (size_t i = 0; i < servers_.size(); ++i) {
        if (switched[i] >= 0) continue;
        RecommendResponse response;
        const grpc::Status status = servers_[i]->Recommend(request, &response);
        EXPECT_TRUE(status.ok()) << status.error_message();
        if (response.arm() == arm) {
          switched[i] = std::chrono::duration<double>(Clock::now() - since).count();
        } else {
          all = false;
        }
      }
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    double last = 0;
    for (size_t i = 0; i < servers_.size(); ++i) {
      EXPECT_GE(switched[i], 0) << servers_[i]->instance() << " never routed " << user
                                << " to " << arm << "; log:\n"
                                << server::testing::ReadFile(servers_[i]->log());
      last = std::max(last, switched[i]);
    }
    // Once switched, every server keeps the new arm.
    for (auto& server : servers_) {
      RecommendResponse response;
      EXPECT_TRUE(server->Recommend(request, &response).ok());
      EXPECT_EQ(response.arm(), arm) << server->instance();
    }
    return switched.empty() ? -1 : last;
  }

  // Every model user gets the same answer from every server, from the arm
  // the contract gives at `treatment` basis points.
  void ExpectAllServersAgree(int32_t treatment) {
    int in_treatment = 0;
    for (int u = 0; u < kModelUsers; ++u) {
      RecommendRequest request;
      request.set_user_id(TestModel::UserId(u));
      request.set_k(5);
      const std::string want = ContractArm(kSalt, request.user_id(), Shares(treatment));
      in_treatment += want == "treatment";
      std::vector<std::string> answers;
      for (auto& server : servers_) {
        RecommendResponse response;
        const grpc::Status status = server->Recommend(request, &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(response.arm(), want) << request.user_id() << " on " << server->instance();
        EXPECT_EQ(response.model_version(), want == "treatment" ? 2u : 1u);
        std::string items = absl::StrCat(response.arm(), "@", response.model_version(), ":");
        for (const auto& item : response.items()) absl::StrAppend(&items, item.item_id(), ",");
        answers.push_back(items);
      }
      for (const std::string& a : answers) EXPECT_EQ(a, answers[0]) << request.user_id();
    }
    // Both arms are exercised.
    EXPECT_GT(in_treatment, 0);
    EXPECT_LT(in_treatment, kModelUsers);
  }

  std::string dir_;
  std::vector<std::unique_ptr<ServerChild>> servers_;
};

TEST_F(FleetBinaryTest, TwoServersRouteAlikeAndApplyChangesWithinASecond) {
  StartServers(2);
  ASSERT_FALSE(HasFatalFailure());
  ExpectAllServersAgree(3000);

  // Raised to 60% through the store's API.
  const std::string raised = UserMoving(3000, "control", 6000, "treatment");
  ASSERT_FALSE(raised.empty());
  double seconds = 0;
  {
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    ASSERT_TRUE(testing::SetArms(**rw, kSalt, {Arm("treatment", 2, 6000)}).ok());
    const Clock::time_point written = Clock::now();
    seconds = SecondsUntilAllRoute(raised, "treatment", written);
  }
  std::printf("rollout change (ModelStore::UpdateRollout, 30%% -> 60%%) applied by both "
              "servers %.0f ms after the write returned\n",
              seconds * 1000);
  EXPECT_LT(seconds, 1.0);
  ExpectAllServersAgree(6000);

  // Lowered to 10% with the CLI.
  const std::string lowered = UserMoving(6000, "treatment", 1000, "control");
  ASSERT_FALSE(lowered.empty());
  const testing::CliResult cli = RunCli(
      {"rollout", "set", "--db=" + dir_, "--arm=treatment", "--fraction=10%", "--reason=ramp"});
  const Clock::time_point returned = Clock::now();
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  seconds = SecondsUntilAllRoute(lowered, "control", returned);
  std::printf("rollout change (affinity rollout set, 60%% -> 10%%) applied by both servers "
              "%.0f ms after the command returned\n",
              seconds * 1000);
  EXPECT_LT(seconds, 1.0);
  ExpectAllServersAgree(1000);
}

TEST_F(FleetBinaryTest, ARollbackReachesEveryServerWithinASecond) {
  StartServers(3);
  ASSERT_FALSE(HasFatalFailure());
  const std::string user = UserMoving(5000, "treatment", 0, "control");
  ASSERT_FALSE(user.empty());
  std::vector<double> from_return, from_start;
  for (int round = 0; round < 5; ++round) {
    const testing::CliResult set =
        RunCli({"rollout", "set", "--db=" + dir_, "--arm=treatment", "--version=2",
                "--fraction=50%"});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    SecondsUntilAllRoute(user, "treatment", Clock::now());
    const Clock::time_point start = Clock::now();
    const testing::CliResult rollback =
        RunCli({"rollout", "rollback", "--db=" + dir_, "--reason=round " + std::to_string(round)});
    const Clock::time_point returned = Clock::now();
    ASSERT_EQ(rollback.exit_code, 0) << rollback.output;
    const double seconds = SecondsUntilAllRoute(user, "control", returned);
    EXPECT_LT(seconds, 1.0) << "round " << round;
    from_return.push_back(seconds * 1000);
    from_start.push_back(seconds * 1000 +
                         std::chrono::duration<double, std::milli>(returned - start).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("rollback reached all 3 servers (default --poll_ms) after [%s] ms from the "
              "command's return, median %.0f ms; from its start: median %.0f ms\n",
              absl::StrJoin(from_return, ", ",
                            [](std::string* out, double ms) {
                              absl::StrAppend(out, static_cast<int>(ms + 0.5));
                            })
                  .c_str(),
              median(from_return), median(from_start));
}

}  // namespace
}  // namespace affinity::server
