// Rollout changes while requests flow: two client threads send Recommend
// without pause to a server wired as server/main.cc wires it, whose
// ModelManager polls the store every 20 ms, while the rollout gains a
// treatment arm, the treatment is promoted and then rolled back (the
// changes are the `affinity rollout` transitions, written to the store).
// No request fails; once the manager's table shows a change, no request
// sent afterwards is answered by a version the change retired; the retired
// version's loaded copy is freed.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/rollout/rollout_status.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"
#include "tools/cli/rollout_transitions.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using storage::ModelStore;
using Clock = std::chrono::steady_clock;

constexpr int kClients = 2;
constexpr int kModelUsers = 100;
// Answers wanted in each phase before the next change is written.
constexpr int kAnswersPerPhase = 1500;

// Phases 0..3: after the table of the initial state, the change, the
// promote and the rollback was seen in the manager. A request sent while a
// change is written and not yet seen in the table is in kChanging.
constexpr int kChanging = -1;

struct Answer {
  int phase = 0;  // the phase when the request was sent
  bool ok = false;
  std::string error;
  uint64_t version = 0;
  std::string arm;
};

class ChangesUnderLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    rw_ = std::move(*rw);
    for (uint32_t seed = 1; seed <= 2; ++seed) {
      auto version = server::testing::Publish(
          rw_.get(), server::testing::MakeImplicitModel(seed, kModelUsers, 400, 16, 20));
      ASSERT_TRUE(version.ok()) << version.status();
    }
    // Control pinned to version 1, as the CLI pins it.
    Apply(cli::SetArm(Status(), "control", 1, std::nullopt));
    testing::ServingStackOptions options;
    options.poll = std::chrono::milliseconds(20);
    auto stack = testing::ServingStack::Start(dir_, options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    WaitForTable(revision_);
    phase_ = 0;
  }

  void TearDown() override {
    StopClients();
    if (stack_ != nullptr) stack_->Stop();
  }

  affinity::v1::RolloutStatus Status() {
    absl::StatusOr<affinity::v1::RolloutStatus> status =
        rollout::ReadRolloutStatus(*rw_, dir_);
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? *status : affinity::v1::RolloutStatus();
  }

  // Writes a transition's state; remembers the new revision. Requests sent
  // from here until the test sets the next phase are kChanging.
  void Apply(const absl::StatusOr<cli::RolloutEdit>& edit) {
    ASSERT_TRUE(edit.ok()) << edit.status();
    phase_ = kChanging;
    absl::StatusOr<affinity::v1::RolloutState> stored = rw_->UpdateRollout(
        Status().state().revision(), edit->next,
        storage::RolloutChangeInfo{"load test", edit->action, edit->summary});
    ASSERT_TRUE(stored.ok()) << stored.status();
    revision_ = stored->revision();
  }

  // Until the manager's table is the one of `revision` (10 s at most).
  std::shared_ptr<const RoutingTable> WaitForTable(uint64_t revision) {
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < give_up) {
      std::shared_ptr<const RoutingTable> table = stack_->models().routing();
      if (table != nullptr && table->revision() == revision) return table;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "the manager never applied rollout revision " << revision;
    return nullptr;
  }

  void StartClients() {
    // Sized before any client starts: growing it would move the vectors
    // the running clients append to (a race TSan found).
    answers_.resize(kClients);
    for (int c = 0; c < kClients; ++c) {
      clients_.emplace_back([this, c] {
        std::vector<Answer>& mine = answers_[c];
        mine.reserve(20000);
        for (int i = 0; !stop_.load(); ++i) {
          RecommendRequest request;
          request.set_user_id(server::testing::TestModel::UserId((i * kClients + c) % kModelUsers));
          request.set_k(10);
          Answer answer;
          answer.phase = phase_.load();
          RecommendResponse response;
          const grpc::Status status = stack_->Recommend(request, &response);
          // A request that spans a phase change (a thread descheduled
          // for longer than a poll on a busy machine) belongs to no phase.
          if (phase_.load() != answer.phase) answer.phase = kChanging;
          answer.ok = status.ok();
          answer.error = status.error_message();
          answer.version = response.model_version();
          answer.arm = response.arm();
          mine.push_back(std::move(answer));
          answered_.fetch_add(1);
        }
      });
    }
  }

  void StopClients() {
    stop_ = true;
    for (std::thread& t : clients_) t.join();
    clients_.clear();
  }

  // Waits until kAnswersPerPhase more answers arrived.
  void LetLoadRun() {
    const int until = answered_.load() + kAnswersPerPhase;
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(20);
    while (answered_.load() < until && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(answered_.load(), until) << "the clients stalled";
  }

  std::string dir_;
  std::unique_ptr<ModelStore> rw_;
  uint64_t revision_ = 0;
  std::unique_ptr<testing::ServingStack> stack_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> answered_{0};
  std::vector<std::thread> clients_;
  std::vector<std::vector<Answer>> answers_;
};

TEST_F(ChangesUnderLoadTest, ChangePromoteAndRollbackFailNoRequest) {
  ASSERT_FALSE(HasFatalFailure());
  StartClients();
  LetLoadRun();

  // 1: a treatment arm with version 2 on 50%.
  Apply(cli::SetArm(Status(), "treatment", 2, 5000));
  std::shared_ptr<const RoutingTable> table = WaitForTable(revision_);
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->arms().size(), 2u);
  std::weak_ptr<const LoadedModel> version2 = table->arms()[1].model;
  table.reset();
  phase_ = 1;
  LetLoadRun();

  // 2: promote: version 2 is control, version 1 retired.
  Apply(cli::Promote(Status(), std::nullopt));
  table = WaitForTable(revision_);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->versions(), (std::set<uint64_t>{2}));
  table.reset();
  phase_ = 2;
  LetLoadRun();

  // 3: rollback: version 1 is control again, version 2 retired.
  Apply(cli::Rollback(Status()));
  table = WaitForTable(revision_);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->versions(), (std::set<uint64_t>{1}));
  table.reset();
  phase_ = 3;
  LetLoadRun();
  StopClients();

  std::map<int, std::map<uint64_t, int>> by_phase;  // phase -> version -> answers
  int failed = 0;
  std::string first_error;
  for (const std::vector<Answer>& answers : answers_) {
    for (const Answer& a : answers) {
      if (!a.ok) {
        if (failed++ == 0) first_error = a.error;
        continue;
      }
      ++by_phase[a.phase][a.version];
      if (a.phase == kChanging) continue;
      // Version 1 is only ever control; version 2 is the treatment until
      // it is promoted.
      EXPECT_EQ(a.arm, a.version == 2 && a.phase == 1 ? "treatment" : "control")
          << "phase " << a.phase << " version " << a.version;
    }
  }
  EXPECT_EQ(failed, 0) << "first failure: " << first_error;
  for (const auto& [phase, versions] : by_phase) {
    for (const auto& [version, n] : versions) {
      std::printf("phase %s: %d answers from version %llu\n",
                  phase == kChanging ? "changing" : std::to_string(phase).c_str(), n,
                  static_cast<unsigned long long>(version));
    }
  }
  EXPECT_EQ(by_phase[0].count(2), 0u);
  // While the treatment ran, both versions answered.
  EXPECT_GT(by_phase[1][1], 0);
  EXPECT_GT(by_phase[1][2], 0);
  // After the promote was applied, nothing from version 1; after the
  // rollback, nothing from version 2.
  EXPECT_EQ(by_phase[2].count(1), 0u);
  EXPECT_GT(by_phase[2][2], 0);
  EXPECT_EQ(by_phase[3].count(2), 0u);
  EXPECT_GT(by_phase[3][1], 0);
  // No arm serves version 2 any more, and no request holds it: its loaded
  // copy is gone.
  EXPECT_TRUE(version2.expired()) << "version 2 is still loaded after the rollback";
}

}  // namespace
}  // namespace affinity::server
