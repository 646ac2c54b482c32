// `affinity rollout` state transitions applied to a real store in a temp
// dir through the CLI's store target: set and remove an arm, pin control,
// promote, rollback after a promote, rollback of a canary, policy switches
// and the shadow; and what each refuses.
#include "tools/cli/rollout_transitions.h"

#include <functional>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"
#include "tools/cli/rollout_target.h"

namespace affinity::cli {
namespace {

using ::affinity::storage::ModelStore;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;
using ::affinity::v1::NewVersionPolicy;
using ::affinity::v1::RolloutStatus;
using ::testing::HasSubstr;

std::string Arms(const RolloutStatus& status) {
  std::string out;
  for (const auto& arm : status.resolved().arms()) {
    if (!out.empty()) out += " ";
    out +=
        arm.name() + "=" + std::to_string(arm.version()) + ":" + std::to_string(arm.basis_points());
  }
  return out;
}

class RolloutTransitionsTest : public ::testing::Test {
 protected:
  // Versions 1..eligible published eligible, then one refused by the gate.
  void Publish(uint32_t eligible, bool gated_last) {
    dir_ = MakeTestDir();
    auto store = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint32_t seed = 1; seed <= eligible; ++seed) {
      ASSERT_EQ(PublishModel(**store, SmallModel::Make(2, 2, 2, seed)), seed);
    }
    if (gated_last) {
      SmallModel gated = SmallModel::Make(2, 2, 2, eligible + 1);
      gated.ineligible = true;
      ASSERT_EQ(PublishModel(**store, gated), eligible + 1);
    }
  }

  // Publishes one more eligible version (the store must not be open).
  uint64_t PublishAnother(uint32_t seed) {
    auto store = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? PublishModel(**store, SmallModel::Make(2, 2, 2, seed)) : 0;
  }

  RolloutStatus Read() {
    auto target = OpenStoreTarget(dir_, TargetAccess::kRead);
    EXPECT_TRUE(target.ok()) << target.status();
    if (!target.ok()) return RolloutStatus();
    absl::StatusOr<RolloutStatus> status = (*target)->Get();
    EXPECT_TRUE(status.ok()) << status.status();
    return status.value_or(RolloutStatus());
  }

  // Reads the store, applies `edit` and writes the result; returns the
  // transition's or the store's error.
  absl::StatusOr<RolloutStatus> Apply(
      const std::function<absl::StatusOr<RolloutEdit>(const RolloutStatus&)>& edit) {
    auto target = OpenStoreTarget(dir_, TargetAccess::kWrite);
    if (!target.ok()) return target.status();
    absl::StatusOr<RolloutStatus> current = (*target)->Get();
    if (!current.ok()) return current.status();
    absl::StatusOr<RolloutEdit> next = edit(*current);
    if (!next.ok()) return next.status();
    return (*target)->Update(current->state().revision(), next->next,
                             {"tester@host via affinity rollout", next->action, next->summary});
  }

  std::string dir_;
};

TEST_F(RolloutTransitionsTest, SetAddsResizesMovesAndRemovesAnArm) {
  Publish(3, /*gated_last=*/false);
  auto added = Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", 1, 1000); });
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(Arms(*added), "control=3:9000 treatment=1:1000");

  auto resized =
      Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", std::nullopt, 2000); });
  ASSERT_TRUE(resized.ok()) << resized.status();
  EXPECT_EQ(Arms(*resized), "control=3:8000 treatment=1:2000");

  auto second = Apply([](const RolloutStatus& s) { return SetArm(s, "other", 2, 500); });
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Arms(*second), "control=3:7500 treatment=1:2000 other=2:500");

  auto moved =
      Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", 2, std::nullopt); });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(Arms(*moved), "control=3:7500 treatment=2:2000 other=2:500");

  auto removed =
      Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", std::nullopt, 0); });
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(Arms(*removed), "control=3:9500 other=2:500");
  EXPECT_EQ(removed->state().revision(), 5u);
}

TEST_F(RolloutTransitionsTest, SetRefusesWhatItCannotDo) {
  Publish(2, /*gated_last=*/true);
  const RolloutStatus current = Read();
  struct Case {
    absl::StatusOr<RolloutEdit> edit;
    const char* message;
  };
  const Case cases[] = {
      {SetArm(current, "treatment", std::nullopt, 0), "--arm: no arm \"treatment\" to remove"},
      {SetArm(current, "treatment", std::nullopt, 1000), "--version: a new arm needs"},
      {SetArm(current, "treatment", 1, std::nullopt), "--fraction: a new arm needs"},
      {SetArm(current, "treatment", 0, 1000), "--version: 0 is not a model version"},
      {SetArm(current, "canary", 1, 1000), "--arm: canary is the policy's arm"},
      {SetArm(current, "control", 1, 1000), "--fraction: control takes what"},
      {SetArm(current, "control", std::nullopt, std::nullopt), "--version: set --arm=control"},
  };
  for (const Case& c : cases) {
    ASSERT_FALSE(c.edit.ok()) << c.message;
    EXPECT_TRUE(absl::IsInvalidArgument(c.edit.status())) << c.edit.status();
    EXPECT_THAT(c.edit.status().message(), HasSubstr(c.message));
  }
  // The store refuses the gated version 3 and names why; nothing changes.
  auto gated = Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", 3, 1000); });
  EXPECT_TRUE(absl::IsFailedPrecondition(gated.status())) << gated.status();
  EXPECT_THAT(gated.status().message(), HasSubstr("the nightly gate refused it"));
  auto unknown = Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", 7, 1000); });
  EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
  EXPECT_EQ(Read().state().revision(), 0u);
}

TEST_F(RolloutTransitionsTest, PinAndUnpinControl) {
  Publish(3, /*gated_last=*/false);
  auto pinned = Apply([](const RolloutStatus& s) { return SetArm(s, "control", 1, std::nullopt); });
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(Arms(*pinned), "control=1:10000");
  EXPECT_EQ(pinned->state().control_version(), 1u);
  EXPECT_EQ(pinned->state().previous_control_version(), 3u);
  auto unpinned =
      Apply([](const RolloutStatus& s) { return SetArm(s, "control", 0, std::nullopt); });
  ASSERT_TRUE(unpinned.ok()) << unpinned.status();
  EXPECT_EQ(Arms(*unpinned), "control=3:10000");
  EXPECT_EQ(unpinned->state().control_version(), 0u);
}

TEST_F(RolloutTransitionsTest, PromoteThenRollbackReturnsToTheOldControl) {
  Publish(3, /*gated_last=*/false);
  ASSERT_TRUE(
      Apply([](const RolloutStatus& s) { return SetArm(s, "control", 2, std::nullopt); }).ok());
  ASSERT_TRUE(Apply([](const RolloutStatus& s) { return SetArm(s, "treatment", 3, 1000); }).ok());

  auto promoted = Apply([](const RolloutStatus& s) { return Promote(s, std::nullopt); });
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(Arms(*promoted), "control=3:10000");
  EXPECT_EQ(promoted->state().control_version(), 3u);
  EXPECT_EQ(promoted->state().previous_control_version(), 2u);
  EXPECT_EQ(promoted->state().arms_size(), 0);

  // No other arm serves: rollback goes back to the control before the
  // promote, pinned.
  auto rolled_back = Apply([](const RolloutStatus& s) { return Rollback(s); });
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.status();
  EXPECT_EQ(Arms(*rolled_back), "control=2:10000");
  EXPECT_EQ(rolled_back->state().control_version(), 2u);
  EXPECT_EQ(rolled_back->state().previous_control_version(), 0u);

  // Nothing further to roll back to.
  absl::StatusOr<RolloutEdit> again = Rollback(Read());
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
  EXPECT_THAT(again.status().message(), HasSubstr("nothing to roll back"));
  absl::StatusOr<RolloutEdit> promote = Promote(Read(), std::nullopt);
  EXPECT_THAT(promote.status().message(), HasSubstr("nothing to promote"));
}

TEST_F(RolloutTransitionsTest, PromoteNamesTheArmWhenSeveralServe) {
  Publish(3, /*gated_last=*/false);
  ASSERT_TRUE(Apply([](const RolloutStatus& s) { return SetArm(s, "a", 1, 1000); }).ok());
  ASSERT_TRUE(Apply([](const RolloutStatus& s) { return SetArm(s, "b", 2, 1000); }).ok());
  const RolloutStatus current = Read();
  EXPECT_THAT(Promote(current, std::nullopt).status().message(),
              HasSubstr("several arms serve (a, b)"));
  EXPECT_THAT(Promote(current, std::string("c")).status().message(),
              HasSubstr("--arm: no arm \"c\" (arms: a, b)"));
  auto promoted = Apply([](const RolloutStatus& s) { return Promote(s, std::string("b")); });
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(Arms(*promoted), "control=2:9000 a=1:1000");
  EXPECT_EQ(promoted->state().previous_control_version(), 3u);
}

TEST_F(RolloutTransitionsTest, RollbackOfTheCanaryKeepsItOutUntilANewerVersion) {
  Publish(1, /*gated_last=*/false);
  auto policy = Apply([](const RolloutStatus& s) {
    PolicyChange change;
    change.mode = NewVersionPolicy::CANARY;
    change.canary_basis_points = 500;
    return SetPolicy(s, change);
  });
  ASSERT_TRUE(policy.ok()) << policy.status();
  // Switching to the canary policy pinned control where it was.
  EXPECT_EQ(policy->state().control_version(), 1u);
  ASSERT_EQ(PublishAnother(2), 2u);
  EXPECT_EQ(Arms(Read()), "control=1:9500 canary=2:500");
  ASSERT_TRUE(Apply([](const RolloutStatus& s) { return SetArm(s, "manual", 1, 1000); }).ok());
  EXPECT_EQ(Arms(Read()), "control=1:8500 manual=1:1000 canary=2:500");

  auto rolled_back = Apply([](const RolloutStatus& s) { return Rollback(s); });
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.status();
  EXPECT_EQ(Arms(*rolled_back), "control=1:10000");
  EXPECT_EQ(rolled_back->state().canary_after_version(), 2u);
  EXPECT_EQ(rolled_back->state().arms_size(), 0);

  ASSERT_EQ(PublishAnother(3), 3u);
  EXPECT_EQ(Arms(Read()), "control=1:9500 canary=3:500");
  // Promoting the canary makes it control; the next version is the canary.
  auto promoted = Apply([](const RolloutStatus& s) { return Promote(s, std::nullopt); });
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(Arms(*promoted), "control=3:10000");
  EXPECT_EQ(promoted->state().previous_control_version(), 1u);
  ASSERT_EQ(PublishAnother(4), 4u);
  EXPECT_EQ(Arms(Read()), "control=3:9500 canary=4:500");
  // After rolling the canary back, rollback again returns to version 1 and
  // keeps the promoted version 3 from coming back as the canary.
  ASSERT_TRUE(Apply([](const RolloutStatus& s) { return Rollback(s); }).ok());
  auto to_previous = Apply([](const RolloutStatus& s) { return Rollback(s); });
  ASSERT_TRUE(to_previous.ok()) << to_previous.status();
  EXPECT_EQ(Arms(*to_previous), "control=1:10000");
  EXPECT_EQ(to_previous->state().canary_after_version(), 4u);
}

TEST_F(RolloutTransitionsTest, TheCanaryPolicyKeepsControlPinned) {
  Publish(2, /*gated_last=*/false);
  PolicyChange canary;
  canary.mode = NewVersionPolicy::CANARY;
  canary.canary_basis_points = 500;
  ASSERT_TRUE(Apply([&](const RolloutStatus& s) { return SetPolicy(s, canary); }).ok());
  EXPECT_EQ(Read().state().control_version(), 2u);
  // Unpinned under the canary policy, the newest version is control and
  // the canary arm stays empty; the command says so.
  absl::StatusOr<RolloutEdit> unpin = SetArm(Read(), "control", 0, std::nullopt);
  ASSERT_TRUE(unpin.ok()) << unpin.status();
  EXPECT_THAT(unpin->summary, HasSubstr("the canary arm stays empty"));
  ASSERT_TRUE(
      Apply([](const RolloutStatus& s) { return SetArm(s, "control", 0, std::nullopt); }).ok());
  ASSERT_EQ(PublishAnother(3), 3u);
  EXPECT_EQ(Arms(Read()), "control=3:10000");
  // Setting the canary policy again pins control where it is now.
  canary.canary_basis_points.reset();
  auto pinned = Apply([&](const RolloutStatus& s) { return SetPolicy(s, canary); });
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->state().control_version(), 3u);
  EXPECT_EQ(pinned->state().policy().canary_basis_points(), 500);
  ASSERT_EQ(PublishAnother(4), 4u);
  EXPECT_EQ(Arms(Read()), "control=3:9500 canary=4:500");
}

TEST_F(RolloutTransitionsTest, PolicyAndShadow) {
  Publish(3, /*gated_last=*/false);
  const RolloutStatus current = Read();
  PolicyChange canary;
  canary.mode = NewVersionPolicy::CANARY;
  EXPECT_THAT(SetPolicy(current, canary).status().message(),
              HasSubstr("--canary_fraction: the canary policy needs"));
  canary.canary_basis_points = 1000;
  affinity::v1::AutoPromoteRule rule;
  rule.set_min_impressions(5000);
  rule.set_max_ctr_drop(0.005);
  canary.auto_promote = rule;
  auto with_rule = Apply([&](const RolloutStatus& s) { return SetPolicy(s, canary); });
  ASSERT_TRUE(with_rule.ok()) << with_rule.status();
  EXPECT_TRUE(with_rule->state().policy().auto_promote().enabled());
  EXPECT_EQ(with_rule->state().policy().auto_promote().min_impressions(), 5000);

  // Resizing the canary keeps the rule; --no_auto_promote drops it.
  PolicyChange resize;
  resize.mode = NewVersionPolicy::CANARY;
  resize.canary_basis_points = 2000;
  auto resized = Apply([&](const RolloutStatus& s) { return SetPolicy(s, resize); });
  ASSERT_TRUE(resized.ok()) << resized.status();
  EXPECT_EQ(resized->state().policy().canary_basis_points(), 2000);
  EXPECT_TRUE(resized->state().policy().auto_promote().enabled());
  resize.canary_basis_points.reset();
  resize.disable_auto_promote = true;
  auto off = Apply([&](const RolloutStatus& s) { return SetPolicy(s, resize); });
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->state().policy().auto_promote().enabled());
  EXPECT_EQ(off->state().policy().canary_basis_points(), 2000);

  PolicyChange control;
  auto back = Apply([&](const RolloutStatus& s) { return SetPolicy(s, control); });
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->state().policy().mode(), NewVersionPolicy::CONTROL);
  EXPECT_EQ(back->state().policy().canary_basis_points(), 0);
  EXPECT_EQ(back->state().control_version(), 3u);  // stays pinned

  auto shadow = Apply([](const RolloutStatus& s) { return SetShadow(s, 2, 100); });
  ASSERT_TRUE(shadow.ok()) << shadow.status();
  EXPECT_EQ(shadow->resolved().shadow().version(), 2u);
  EXPECT_EQ(shadow->resolved().shadow().basis_points(), 100);
  auto resized_shadow =
      Apply([](const RolloutStatus& s) { return SetShadow(s, std::nullopt, 300); });
  ASSERT_TRUE(resized_shadow.ok()) << resized_shadow.status();
  EXPECT_EQ(resized_shadow->resolved().shadow().version(), 2u);
  EXPECT_EQ(resized_shadow->resolved().shadow().basis_points(), 300);
  auto no_shadow = Apply([](const RolloutStatus& s) { return SetShadow(s, std::nullopt, 0); });
  ASSERT_TRUE(no_shadow.ok()) << no_shadow.status();
  EXPECT_EQ(no_shadow->resolved().shadow().version(), 0u);
  EXPECT_THAT(SetShadow(Read(), std::nullopt, 100).status().message(),
              HasSubstr("--version: shadow needs --version=N"));
}

}  // namespace
}  // namespace affinity::cli
