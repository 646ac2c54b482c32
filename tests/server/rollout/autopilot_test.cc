// The autopilot on a real store and real events stores: under the canary
// policy with auto-promotion, impressions and clicks reported for control
// and the canary on two server instances (through OutcomeRecorder, as
// ReportOutcome stores them) make it promote a canary that is not worse,
// recording action "auto-promote" with the rule's figures, once both arms
// have enough impressions (forced-arm traffic left out); a clearly worse
// canary is left where it is.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/observability/arm_metrics.h"
#include "server/rollout/autopilot.h"
#include "server/rollout/outcome_recorder.h"
#include "server/rollout/rollout_status.h"
#include "storage/event_store.h"
#include "storage/model_store.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"
#include "tools/cli/rollout_transitions.h"

namespace affinity::server {
namespace {

using storage::ModelStore;
using ::testing::HasSubstr;

constexpr int64_t kNov1 = int64_t{1793491200} * 1000000;

// One server instance's events store and recorder.
struct Instance {
  std::unique_ptr<storage::EventStore> events;
  ArmMetrics metrics;
  std::unique_ptr<OutcomeRecorder> recorder;
};

class AutopilotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    {
      auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
      ASSERT_TRUE(rw.ok()) << rw.status();
      ASSERT_TRUE(server::testing::Publish(rw->get(),
                                           server::testing::MakeImplicitModel(1, 20, 40, 4, 5))
                      .ok());
      // `affinity rollout policy --mode=canary --canary_fraction=50%
      //  --auto_promote_min_impressions=1000 --auto_promote_max_ctr_drop=1%`
      auto status = rollout::ReadRolloutStatus(**rw, dir_);
      ASSERT_TRUE(status.ok()) << status.status();
      cli::PolicyChange policy;
      policy.mode = affinity::v1::NewVersionPolicy::CANARY;
      policy.canary_basis_points = 5000;
      affinity::v1::AutoPromoteRule rule;
      rule.set_enabled(true);
      rule.set_min_impressions(1000);
      rule.set_max_ctr_drop(0.01);
      policy.auto_promote = rule;
      auto edit = cli::SetPolicy(*status, policy);
      ASSERT_TRUE(edit.ok()) << edit.status();
      ASSERT_TRUE((*rw)->UpdateRollout(status->state().revision(), edit->next,
                                       {"tester", edit->action, edit->summary})
                      .ok());
      // The next version becomes the canary.
      ASSERT_TRUE(server::testing::Publish(rw->get(),
                                           server::testing::MakeImplicitModel(2, 20, 40, 4, 5))
                      .ok());
      auto resolved = (*rw)->ResolvedRollout();
      ASSERT_TRUE(resolved.ok()) << resolved.status();
      ASSERT_EQ(resolved->arms_size(), 2);
      ASSERT_EQ(resolved->arms(1).name(), "canary");
      ASSERT_EQ(resolved->arms(1).version(), 2u);
      revision_ = (*rw)->GetRollout()->revision();
    }
    for (const char* name : {"server-a", "server-b"}) {
      auto instance = std::make_unique<Instance>();
      auto events = storage::EventStore::Open(dir_, name);
      ASSERT_TRUE(events.ok()) << events.status();
      instance->events = *std::move(events);
      instance->recorder =
          std::make_unique<OutcomeRecorder>(instance->events.get(), &instance->metrics);
      instances_.push_back(std::move(instance));
    }
    auto follower = ModelStore::Open(dir_, ModelStore::Mode::kFollower);
    ASSERT_TRUE(follower.ok()) << follower.status();
    follower_ = *std::move(follower);
    autopilot_ = std::make_unique<rollout::Autopilot>(dir_, follower_.get(), "autopilot on test");
  }

  // Reports `impressions` impressions of `arm` at `version`, `clicks` of
  // them clicked, on instance `on`; forced ones name a forced request_id.
  void Report(int on, const std::string& arm, uint64_t version, int impressions, int clicks,
              bool forced = false) {
    affinity::v1::ReportOutcomeRequest request;
    for (int i = 0; i < impressions; ++i) {
      const int64_t at = kNov1 + 1000 * next_++;
      for (int e = 0; e < (i < clicks ? 2 : 1); ++e) {
        affinity::v1::OutcomeReport* o = request.add_outcomes();
        if (forced) {
          o->set_request_id(absl::StrFormat("r1.%d.%s.f.%016x", version, arm, next_));
        } else {
          o->set_arm(arm);
          o->set_model_version(version);
        }
        o->set_user_id(absl::StrCat("user-", next_));
        o->set_item_id(absl::StrCat("item-", i % 40));
        o->set_event(e == 0 ? affinity::v1::IMPRESSION : affinity::v1::CLICK);
        o->set_at_unix_micros(at + e);
      }
    }
    auto recorded = instances_[on]->recorder->Record(request);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    ASSERT_EQ(recorded->accepted(), request.outcomes_size());
  }

  absl::StatusOr<std::string> RunOnce() {
    if (absl::Status s = follower_->Refresh(); !s.ok()) return s;
    return autopilot_->RunOnce();
  }

  affinity::v1::RolloutState State() {
    EXPECT_TRUE(follower_->Refresh().ok());
    auto state = follower_->GetRollout();
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : affinity::v1::RolloutState();
  }

  std::string dir_;
  uint64_t revision_ = 0;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::unique_ptr<ModelStore> follower_;
  std::unique_ptr<rollout::Autopilot> autopilot_;
  int next_ = 0;
};

TEST_F(AutopilotTest, ACanaryThatIsNotWorseIsPromotedWithTheFigures) {
  // Not enough impressions yet (400 each): wait. Forced canary traffic
  // without clicks would make the canary look worse, and is left out.
  Report(0, "control", 1, 250, 12);
  Report(1, "control", 1, 150, 8);
  Report(0, "canary", 2, 300, 15);
  Report(1, "canary", 2, 100, 9);
  Report(1, "canary", 2, 3000, 0, /*forced=*/true);
  absl::StatusOr<std::string> done = RunOnce();
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "");
  EXPECT_EQ(State().revision(), revision_);

  // 1000 each: control 50 clicks (5%), canary 60 (6%).
  Report(0, "control", 1, 350, 17);
  Report(1, "control", 1, 250, 13);
  Report(0, "canary", 2, 400, 20);
  Report(1, "canary", 2, 200, 16);
  done = RunOnce();
  ASSERT_TRUE(done.ok()) << done.status();
  // The unpooled 95% interval of 6% - 5% over 1000 impressions each.
  const double se = std::sqrt(0.06 * 0.94 / 1000 + 0.05 * 0.95 / 1000);
  const std::string figures = absl::StrFormat(
      "control 1000 impressions, CTR 5.000%%; canary 1000 impressions, CTR 6.000%%; "
      "canary - control +1.000 pp [95%% CI %+.3f, %+.3f]; rule: >= 1000 impressions each and "
      "the lower end above -1.000 pp",
      100 * (0.01 - 1.959963984540054 * se), 100 * (0.01 + 1.959963984540054 * se));
  EXPECT_THAT(figures, HasSubstr("[95% CI -0.998, +2.998]"));  // by hand
  EXPECT_THAT(*done, HasSubstr("auto-promoted canary version 2 to control (was 1)"));
  EXPECT_THAT(*done, HasSubstr(figures));

  const affinity::v1::RolloutState state = State();
  EXPECT_EQ(state.revision(), revision_ + 1);
  EXPECT_EQ(state.control_version(), 2u);
  EXPECT_EQ(state.previous_control_version(), 1u);
  auto history = follower_->RolloutHistory(1);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].action(), "auto-promote");
  EXPECT_EQ((*history)[0].by(), "autopilot on test");
  EXPECT_EQ((*history)[0].reason(), "promote: " + figures);
  auto resolved = follower_->ResolvedRollout();
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  ASSERT_EQ(resolved->arms_size(), 1);
  EXPECT_EQ(resolved->arms(0).version(), 2u);

  // Nothing is left to decide: a second run changes nothing.
  done = RunOnce();
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "");
  EXPECT_EQ(State().revision(), revision_ + 1);
}

TEST_F(AutopilotTest, AClearlyWorseCanaryIsNotPromoted) {
  // Control 10%, canary 5% over 1000 impressions each (split over both
  // instances): the interval's lower end is far below -1 pp.
  Report(0, "control", 1, 600, 60);
  Report(1, "control", 1, 400, 40);
  Report(0, "canary", 2, 500, 25);
  Report(1, "canary", 2, 500, 25);
  for (int run = 0; run < 2; ++run) {
    absl::StatusOr<std::string> done = RunOnce();
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(*done, "");
  }
  const affinity::v1::RolloutState state = State();
  EXPECT_EQ(state.revision(), revision_);
  EXPECT_EQ(state.control_version(), 1u);
  auto history = follower_->RolloutHistory(5);
  ASSERT_TRUE(history.ok());
  for (const affinity::v1::RolloutChange& change : *history) {
    EXPECT_NE(change.action(), "auto-promote");
  }
  auto resolved = follower_->ResolvedRollout();
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  ASSERT_EQ(resolved->arms_size(), 2);
  EXPECT_EQ(resolved->arms(1).name(), "canary");
  EXPECT_EQ(resolved->arms(1).version(), 2u);
}

}  // namespace
}  // namespace affinity::server
