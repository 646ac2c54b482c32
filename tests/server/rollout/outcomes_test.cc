// ReportOutcome on the serving path (server wired as server/main.cc wires
// it, with its events store): outcomes naming the request_id of real
// answers are stored durably and counted per arm, both in the events store
// (read back with EventReader, as `affinity rollout status` reads it) and
// in the arm metrics; a batch sent again is counted once; forced-arm
// traffic is kept apart; a malformed outcome is INVALID_ARGUMENT naming the
// field and nothing of its batch is stored.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_reader.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::OutcomeReport;
using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using affinity::v1::ReportOutcomeRequest;
using affinity::v1::ReportOutcomeResponse;
using server::testing::TestModel;
using storage::ModelStore;
using ::testing::HasSubstr;

constexpr int kModelUsers = 50;
// 2026-11-01T00:00:00Z in microseconds.
constexpr int64_t kNov1 = int64_t{1793491200} * 1000000;

using testing::ArmKey;
using Tally = testing::ArmTally;

class OutcomesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    {
      auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
      ASSERT_TRUE(rw.ok()) << rw.status();
      for (uint32_t seed = 1; seed <= 2; ++seed) {
        auto version = server::testing::Publish(
            rw->get(), server::testing::MakeImplicitModel(seed, kModelUsers, 100, 8, 10));
        ASSERT_TRUE(version.ok()) << version.status();
      }
      ASSERT_TRUE(testing::EditRollout(**rw, "pin", [](affinity::v1::RolloutState& s) {
                    s.set_control_version(1);
                  }).ok());
      ASSERT_TRUE(
          testing::SetArms(**rw, "exp-outcomes", {testing::Arm("treatment", 2, 5000)}).ok());
    }
    auto stack = testing::ServingStack::Start(dir_, {});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    ASSERT_TRUE(stack_->models().Poll().ok());
  }

  // Recommends k=3 for `users` model users (forcing `arm` when given);
  // counts each answer as a request of its arm.
  std::vector<RecommendResponse> Answers(int users, const std::string& forced = "") {
    std::vector<RecommendResponse> out;
    for (int u = 0; u < users; ++u) {
      RecommendRequest request;
      request.set_user_id(TestModel::UserId(u % kModelUsers));
      request.set_k(3);
      request.set_arm(forced);
      RecommendResponse response;
      const grpc::Status status = stack_->Recommend(request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      ++expected_[{response.arm(), response.model_version(), !forced.empty()}].requests;
      out.push_back(response);
    }
    return out;
  }

  ReportOutcomeRequest Outcomes(const std::vector<RecommendResponse>& answers, int64_t at) {
    return testing::OutcomesFor(answers, at, &expected_);
  }

  // What the events store holds, per (arm, version, forced).
  std::map<ArmKey, Tally> Stored() {
    std::map<ArmKey, Tally> out;
    auto reader = storage::EventReader::Open(dir_);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    auto counts = (*reader)->Counts();
    EXPECT_TRUE(counts.ok()) << counts.status();
    if (!counts.ok()) return out;
    for (const storage::ArmOutcomeCounts& c : *counts) {
      out[{c.arm, c.model_version, c.forced}] =
          Tally{c.counts.requests, c.counts.impressions, c.counts.clicks};
    }
    return out;
  }

  void ExpectStoredAndCounted() {
    ASSERT_TRUE(stack_->outcomes()->Flush().ok());
    const std::map<ArmKey, Tally> stored = Stored();
    EXPECT_EQ(stored.size(), expected_.size());
    for (const auto& [key, want] : expected_) {
      const auto& [arm, version, forced] = key;
      const std::string name = absl::StrCat(arm, "@", version, forced ? " forced" : "");
      auto it = stored.find(key);
      ASSERT_NE(it, stored.end()) << name << " not stored";
      EXPECT_EQ(it->second.requests, want.requests) << name;
      EXPECT_EQ(it->second.impressions, want.impressions) << name;
      EXPECT_EQ(it->second.clicks, want.clicks) << name;
      EXPECT_EQ(stack_->arm_metrics().outcomes(arm, version, forced, affinity::v1::IMPRESSION),
                static_cast<uint64_t>(want.impressions))
          << name;
      EXPECT_EQ(stack_->arm_metrics().outcomes(arm, version, forced, affinity::v1::CLICK),
                static_cast<uint64_t>(want.clicks))
          << name;
    }
  }

  grpc::Status Report(const ReportOutcomeRequest& request, ReportOutcomeResponse* response) {
    return stack_->ReportOutcome(request, response);
  }

  std::string dir_;
  std::unique_ptr<testing::ServingStack> stack_;
  std::map<ArmKey, Tally> expected_;
};

TEST_F(OutcomesTest, OutcomesOfRealAnswersAreStoredAndCountedPerArm) {
  const std::vector<RecommendResponse> answers = Answers(40);
  const ReportOutcomeRequest batch = Outcomes(answers, kNov1);
  ReportOutcomeResponse response;
  const grpc::Status status = Report(batch, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), batch.outcomes_size());
  EXPECT_EQ(response.duplicates(), 0);
  // Both arms took traffic and outcomes.
  ASSERT_EQ(expected_.size(), 2u);
  for (const auto& [key, tally] : expected_) EXPECT_GT(tally.clicks, 0) << std::get<0>(key);
  ExpectStoredAndCounted();

  // Each stored event carries the arm and version of its request_id.
  auto reader = storage::EventReader::Open(dir_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  int events = 0;
  ASSERT_TRUE((*reader)
                  ->ForEachEvent(0,
                                 [&](const affinity::v1::Outcome& e) {
                                   ++events;
                                   EXPECT_EQ(e.request_id().rfind(absl::StrCat(
                                                 "r1.", e.model_version(), ".", e.arm(), ".b."),
                                                                  0),
                                             0u)
                                       << e.ShortDebugString();
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_EQ(events, batch.outcomes_size());
}

TEST_F(OutcomesTest, TheSameBatchSentTwiceIsCountedOnce) {
  const ReportOutcomeRequest batch = Outcomes(Answers(30), kNov1);
  ReportOutcomeResponse first, second;
  ASSERT_TRUE(Report(batch, &first).ok());
  EXPECT_EQ(first.accepted(), batch.outcomes_size());
  const grpc::Status status = Report(batch, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(second.accepted(), 0);
  EXPECT_EQ(second.duplicates(), batch.outcomes_size());
  ExpectStoredAndCounted();

  // A batch with one new outcome among old ones: that one only is counted.
  ReportOutcomeRequest mixed = batch;
  OutcomeReport* extra = mixed.add_outcomes();
  *extra = batch.outcomes(0);
  extra->set_event(affinity::v1::CLICK);
  extra->set_at_unix_micros(kNov1 + 999);
  const bool forced = false;
  ReportOutcomeResponse third;
  ASSERT_TRUE(Report(mixed, &third).ok());
  EXPECT_EQ(third.accepted(), 1);
  EXPECT_EQ(third.duplicates(), batch.outcomes_size());
  const std::string& id = batch.outcomes(0).request_id();
  const std::string arm = id.find(".treatment.") != std::string::npos ? "treatment" : "control";
  ++expected_[{arm, arm == "treatment" ? 2u : 1u, forced}].clicks;
  ExpectStoredAndCounted();
}

TEST_F(OutcomesTest, ForcedArmOutcomesAreKeptApart) {
  const ReportOutcomeRequest drawn = Outcomes(Answers(10), kNov1);
  const ReportOutcomeRequest forced = Outcomes(Answers(10, "treatment"), kNov1 + 10000000);
  ReportOutcomeResponse response;
  ASSERT_TRUE(Report(drawn, &response).ok());
  ASSERT_TRUE(Report(forced, &response).ok());
  EXPECT_GT((expected_[ArmKey{"treatment", 2, true}].impressions), 0);
  ExpectStoredAndCounted();
}

TEST_F(OutcomesTest, MalformedOutcomesAreInvalidArgumentNamingTheFieldAndStoreNothing) {
  const std::vector<RecommendResponse> answers = Answers(2);
  const ReportOutcomeRequest good = Outcomes(answers, kNov1);
  ASSERT_GE(good.outcomes_size(), 2);
  struct Case {
    std::string what;
    std::function<void(ReportOutcomeRequest&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no outcome", [](ReportOutcomeRequest& r) { r.clear_outcomes(); },
       "outcomes: expected at least one outcome"},
      {"no item", [](ReportOutcomeRequest& r) { r.mutable_outcomes(1)->clear_item_id(); },
       "outcomes[1].item_id: must not be empty"},
      {"no event",
       [](ReportOutcomeRequest& r) {
         r.mutable_outcomes(1)->set_event(affinity::v1::EVENT_TYPE_UNSPECIFIED);
       },
       "outcomes[1].event: expected IMPRESSION, CLICK or CONVERSION"},
      {"negative time",
       [](ReportOutcomeRequest& r) { r.mutable_outcomes(0)->set_at_unix_micros(-5); },
       "outcomes[0].at_unix_micros"},
      {"foreign request_id",
       [](ReportOutcomeRequest& r) { r.mutable_outcomes(1)->set_request_id("abc-123"); },
       "outcomes[1].request_id: \"abc-123\" is not a request_id this service returned"},
      {"request_id of version 0",
       [](ReportOutcomeRequest& r) {
         r.mutable_outcomes(1)->set_request_id("r1.0.control.b.0123456789abcdef");
       },
       "outcomes[1].request_id"},
      {"neither request_id nor arm",
       [](ReportOutcomeRequest& r) {
         r.mutable_outcomes(1)->clear_request_id();
         r.mutable_outcomes(1)->set_model_version(1);
       },
       "outcomes[1].request_id: expected the answer's request_id, or arm and model_version"},
      {"arm without version",
       [](ReportOutcomeRequest& r) {
         r.mutable_outcomes(1)->clear_request_id();
         r.mutable_outcomes(1)->set_arm("control");
       },
       "outcomes[1].request_id: expected the answer's request_id, or arm and model_version"},
      {"item id too long",
       [](ReportOutcomeRequest& r) { r.mutable_outcomes(1)->set_item_id(std::string(300, 'x')); },
       "outcomes[1].item_id: at most 256 bytes"},
      {"too many",
       [](ReportOutcomeRequest& r) {
         while (r.outcomes_size() <= 1000) *r.add_outcomes() = r.outcomes(0);
       },
       "outcomes: at most 1000 per call, got 1001"},
  };
  for (const Case& c : cases) {
    ReportOutcomeRequest request = good;
    c.spoil(request);
    ReportOutcomeResponse response;
    const grpc::Status status = Report(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.what;
  }
  // The valid outcomes of those batches were not stored either: only the
  // requests are counted.
  ASSERT_TRUE(stack_->outcomes()->Flush().ok());
  for (const auto& [key, tally] : Stored()) {
    EXPECT_EQ(tally.impressions, 0) << std::get<0>(key);
    EXPECT_EQ(tally.clicks, 0) << std::get<0>(key);
  }
  // And the good batch itself is accepted whole afterwards.
  ReportOutcomeResponse response;
  ASSERT_TRUE(Report(good, &response).ok());
  EXPECT_EQ(response.accepted(), good.outcomes_size());
  ExpectStoredAndCounted();
}

}  // namespace
}  // namespace affinity::server
