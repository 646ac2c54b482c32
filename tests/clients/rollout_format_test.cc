// `affinity rollout` output: shares, the show block (bucket ranges from the
// arm layout), DISAGREE lines, change descriptions and history entries.
#include "tools/cli/rollout_format.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace affinity::cli {
namespace {

using ::affinity::v1::RolloutChange;
using ::affinity::v1::RolloutState;
using ::affinity::v1::RolloutStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

TEST(RolloutFormatTest, SharesArePercentagesWithoutTrailingZeros) {
  EXPECT_EQ(FormatShare(1000), "10%");
  EXPECT_EQ(FormatShare(1), "0.01%");
  EXPECT_EQ(FormatShare(1250), "12.5%");
  EXPECT_EQ(FormatShare(10000), "100%");
  EXPECT_EQ(FormatShare(0), "0%");
}

TEST(RolloutFormatTest, ShowListsArmsWithBucketRangesAndTheRest) {
  const auto status = Parse<RolloutStatus>(R"pb(
    store: "/srv/db"
    state {
      salt: "exp-1"
      control_version: 1
      previous_control_version: 2
      arms { name: "treatment" version: 3 basis_points: 1000 }
      arms { name: "gone" version: 9 basis_points: 100 }
      shadow { version: 4 basis_points: 100 }
      policy {
        mode: CANARY
        canary_basis_points: 500
        auto_promote { enabled: true min_impressions: 1000 max_ctr_drop: 0.005 }
      }
      revision: 7
      updated_at_unix: 1793491200
      updated_by: "alice@host via affinity rollout"
    }
    resolved {
      salt: "exp-1"
      arms { name: "control" version: 1 basis_points: 8500 }
      arms { name: "treatment" version: 3 basis_points: 1000 }
      arms { name: "canary" version: 5 basis_points: 500 }
      shadow { version: 4 basis_points: 100 }
      revision: 7
      warnings: "arm gone: version 9 is not published; its users go to control"
    })pb");
  EXPECT_EQ(FormatRolloutStatus("127.0.0.1:50052", status),
            "== 127.0.0.1:50052 (store /srv/db) ==\n"
            "revision 7, updated 2026-11-01 00:00:00 UTC by alice@host via affinity rollout\n"
            "salt: \"exp-1\"\n"
            "arm        version  share  buckets\n"
            "control          1    85%  0-8499\n"
            "treatment        3    10%  8500-9499\n"
            "canary           5     5%  9500-9999\n"
            "control: pinned to version 1; rollback returns to version 2\n"
            "shadow: version 4 scores 1% of requests off the latency path\n"
            "policy: canary: new eligible versions start on 5%; auto-promote once control and "
            "canary each have >= 1000 impressions and the 95% interval of (canary - control) "
            "CTR lies above -0.5 pp\n"
            "warning: arm gone: version 9 is not published; its users go to control\n");
}

TEST(RolloutFormatTest, ShowSaysWhyNothingServes) {
  const auto status = Parse<RolloutStatus>(R"pb(
    store: "/srv/db"
    unresolved_reason: "no model version is published in /srv/db/models")pb");
  const std::string text = FormatRolloutStatus("/srv/db", status);
  EXPECT_THAT(text, HasSubstr("== /srv/db ==\nrevision 0 (never changed)\n"));
  EXPECT_THAT(text, HasSubstr("arms: none serve: no model version is published"));
  EXPECT_THAT(text, HasSubstr("control: follows the newest eligible version\n"));
}

TEST(RolloutFormatTest, DisagreementsNameTheAspectAndEachTargetsValue) {
  const auto a = Parse<RolloutStatus>(R"pb(
    state { salt: "s" }
    resolved {
      arms { name: "control" version: 1 basis_points: 9000 }
      arms { name: "treatment" version: 3 basis_points: 1000 }
    })pb");
  EXPECT_TRUE(Disagreements({"a", "b"}, {a, a}).empty());
  RolloutStatus b = a;
  b.mutable_resolved()->mutable_arms(1)->set_basis_points(2000);
  b.mutable_resolved()->mutable_arms(0)->set_basis_points(8000);
  b.mutable_state()->set_salt("t");
  b.mutable_resolved()->mutable_shadow()->set_version(4);
  b.mutable_resolved()->mutable_shadow()->set_basis_points(50);
  EXPECT_THAT(
      Disagreements({"a", "b"}, {a, b}),
      ElementsAre("DISAGREE: arms: a has control=1@90% treatment=3@10%; b has control=1@80% "
                  "treatment=3@20%",
                  "DISAGREE: salt: a has \"s\"; b has \"t\"",
                  "DISAGREE: shadow: a has off; b has 4@0.5%"));
  RolloutStatus c = a;
  c.mutable_state()->mutable_policy()->set_mode(affinity::v1::NewVersionPolicy::CANARY);
  c.mutable_state()->mutable_policy()->set_canary_basis_points(100);
  EXPECT_THAT(Disagreements({"a", "a2", "c"}, {a, a, c}),
              ElementsAre("DISAGREE: policy: a has control; a2 has control; c has canary@1%"));
}

TEST(RolloutFormatTest, ChangesAreDescribedFieldByField) {
  const auto before = Parse<RolloutState>(R"pb(
    arms { name: "treatment" version: 3 basis_points: 1000 }
    arms { name: "kept" version: 2 basis_points: 100 }
    revision: 4
    updated_by: "x")pb");
  const auto after = Parse<RolloutState>(R"pb(
    control_version: 3
    previous_control_version: 1
    arms { name: "kept" version: 2 basis_points: 100 }
    arms { name: "new" version: 2 basis_points: 200 }
    shadow { version: 4 basis_points: 100 })pb");
  EXPECT_THAT(DescribeStateChange(before, after),
              ElementsAre("control: follows the newest eligible version -> pinned to version 3",
                          "arm treatment: removed (was version 3 on 10%)",
                          "arm new: added, version 2 on 2%", "shadow: off -> 4@1%",
                          "rollback returns to: none -> version 1"));
  EXPECT_TRUE(DescribeStateChange(before, before).empty());
}

TEST(RolloutFormatTest, HistoryShowsWhoWhenWhyAndBeforeAfter) {
  const auto change = Parse<RolloutChange>(R"pb(
    revision: 5
    at_unix: 1793491260
    by: "alice@host via affinity rollout"
    action: "promote"
    reason: "canary looks fine"
    before {
      control_version: 1
      arms { name: "treatment" version: 3 basis_points: 1000 }
      salt: "exp"
    }
    after { control_version: 3 previous_control_version: 1 salt: "exp" })pb");
  EXPECT_EQ(FormatRolloutHistory({change}),
            "revision 5  2026-11-01 00:01:00 UTC  promote  by alice@host via affinity rollout\n"
            "  reason: canary looks fine\n"
            "  control=1 treatment=3@10% salt=exp -> control=3 prev=1 salt=exp\n");
  EXPECT_EQ(FormatRolloutHistory({}), "no rollout change recorded\n");
}

}  // namespace
}  // namespace affinity::cli
