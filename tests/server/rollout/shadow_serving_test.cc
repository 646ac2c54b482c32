// Shadow scoring on the serving path (server wired as server/main.cc wires
// it): with a shadow version sampling every request, the answers are the
// same bytes as without a shadow (request_id aside), while the shadow did
// score them; with a shadow that cannot keep up (its worker held busy, a
// queue of one) requests are still answered, at most one task waits, and
// every refused sample is counted in affinity_shadow_dropped_total.
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
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
using Clock = std::chrono::steady_clock;

constexpr int kModelUsers = 60;
constexpr int kItems = 300;

// Requests of every kind: known users, unknown users (fallback), folded-in
// `recent`, exclusions, anonymous sessions.
std::vector<RecommendRequest> VariedRequests() {
  std::vector<RecommendRequest> out;
  for (int i = 0; i < 120; ++i) {
    RecommendRequest r;
    r.set_k(1 + i % 12);
    switch (i % 5) {
      case 0:
      case 1:
        r.set_user_id(TestModel::UserId(i % kModelUsers));
        break;
      case 2:
        r.set_user_id(absl::StrCat("stranger-", i));
        break;
      case 3: {
        r.set_user_id(TestModel::UserId((i * 7) % kModelUsers));
        auto* recent = r.add_recent();
        recent->set_item_id(TestModel::ItemId((i * 13) % kItems));
        recent->set_weight(3);
        r.add_exclude_item_ids(TestModel::ItemId((i * 17) % kItems));
        break;
      }
      default: {
        r.set_session_id(absl::StrCat("session-", i));
        auto* recent = r.add_recent();
        recent->set_item_id(TestModel::ItemId(i % kItems));
        recent->set_weight(1);
        break;
      }
    }
    out.push_back(r);
  }
  return out;
}

// The value of the sample `series` (name and labels, exactly) in
// Prometheus text; -1 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

class ShadowServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = storage::testing::MakeTestDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    rw_ = std::move(*rw);
    for (uint32_t seed = 1; seed <= 2; ++seed) {
      auto version = server::testing::Publish(
          rw_.get(), server::testing::MakeImplicitModel(seed, kModelUsers, kItems, 16, 15));
      ASSERT_TRUE(version.ok()) << version.status();
    }
    ASSERT_TRUE(testing::SetArms(*rw_, "exp-shadow", {testing::Arm("treatment", 2, 2000)}).ok());
    ASSERT_TRUE(testing::EditRollout(*rw_, "pin", [](affinity::v1::RolloutState& s) {
                  s.set_control_version(1);
                }).ok());
  }

  void StartStack(size_t shadow_queue) {
    testing::ServingStackOptions options;
    options.shadow_queue = shadow_queue;
    auto stack = testing::ServingStack::Start(dir_, options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    ASSERT_TRUE(stack_->models().Poll().ok());
  }

  // Shadow version 2 on `basis_points` of the requests, applied.
  void SetShadow(int32_t basis_points) {
    ASSERT_TRUE(testing::EditRollout(*rw_, "shadow", [&](affinity::v1::RolloutState& s) {
                  s.mutable_shadow()->set_version(2);
                  s.mutable_shadow()->set_basis_points(basis_points);
                }).ok());
    ASSERT_TRUE(stack_->models().Poll().ok());
    std::shared_ptr<const RoutingTable> table = stack_->models().routing();
    ASSERT_NE(table->shadow(), nullptr);
    ASSERT_EQ(table->shadow()->version, 2u);
    ASSERT_EQ(table->shadow_basis_points(), basis_points);
  }

  // Every answer, request_id cleared, serialized deterministically.
  std::vector<std::string> AnswerBytes(const std::vector<RecommendRequest>& requests) {
    std::vector<std::string> out;
    for (const RecommendRequest& r : requests) {
      RecommendResponse response;
      const grpc::Status status = stack_->Recommend(r, &response);
      EXPECT_TRUE(status.ok()) << status.error_message() << " for " << r.ShortDebugString();
      EXPECT_FALSE(response.request_id().empty());
      response.clear_request_id();
      std::string bytes;
      google::protobuf::io::StringOutputStream stream(&bytes);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      response.SerializeToCodedStream(&coded);
      coded.Trim();
      out.push_back(bytes);
    }
    return out;
  }

  // Until the shadow worker has run every task it accepted (10 s at most).
  void WaitForShadowDrained() {
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < give_up) {
      const rollout::ShadowRunner::Counters c = stack_->shadow().counters();
      if (c.completed + c.failed == c.submitted) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "the shadow worker did not drain";
  }

  std::string dir_;
  std::unique_ptr<ModelStore> rw_;
  std::unique_ptr<testing::ServingStack> stack_;
};

TEST_F(ShadowServingTest, AShadowOnEveryRequestLeavesTheAnswersByteIdentical) {
  StartStack(/*shadow_queue=*/256);
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<RecommendRequest> requests = VariedRequests();
  const std::vector<std::string> without = AnswerBytes(requests);
  ASSERT_EQ(stack_->shadow().counters().submitted, 0u);

  SetShadow(10000);
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<std::string> with = AnswerBytes(requests);
  ASSERT_EQ(with.size(), without.size());
  for (size_t i = 0; i < with.size(); ++i) {
    EXPECT_EQ(with[i], without[i]) << "answer " << i << " changed with a shadow: "
                                   << requests[i].ShortDebugString();
  }

  // The shadow did score them: every request was sampled, and each one it
  // accepted was scored by version 2 and compared.
  WaitForShadowDrained();
  const rollout::ShadowRunner::Counters c = stack_->shadow().counters();
  EXPECT_EQ(c.submitted + c.dropped, requests.size());
  EXPECT_EQ(c.failed, 0u);
  EXPECT_GT(c.completed, requests.size() / 2);
  EXPECT_EQ(stack_->arm_metrics().shadow_requests(2), c.completed);
  EXPECT_EQ(stack_->arm_metrics().shadow_dropped(2), c.dropped);
  EXPECT_THAT(stack_->RenderMetrics(),
              HasSubstr(absl::StrCat("affinity_shadow_requests_total{version=\"2\"} ",
                                     c.completed)));
  // The shadow is another model whose answers overlap the served ones only
  // in part (mean overlap@k below 1): had its answers been returned, the
  // bytes above would have changed.
  const std::string metrics = stack_->RenderMetrics();
  const double sum = MetricValue(metrics, "affinity_shadow_overlap_at_k_sum{version=\"2\"}");
  const double count = MetricValue(metrics, "affinity_shadow_overlap_at_k_count{version=\"2\"}");
  EXPECT_EQ(count, static_cast<double>(c.completed));
  EXPECT_LT(sum, 0.9 * count) << metrics;
}

TEST_F(ShadowServingTest, AShadowThatCannotKeepUpDropsAndCountsNeverQueuingBeyondCapacity) {
  StartStack(/*shadow_queue=*/1);
  ASSERT_FALSE(HasFatalFailure());
  SetShadow(10000);
  ASSERT_FALSE(HasFatalFailure());

  // Hold the shadow worker busy: nothing drains until released.
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(stack_->shadow().TrySubmit([&started, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();

  constexpr int kRequests = 40;
  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    RecommendRequest request;
    request.set_user_id(TestModel::UserId(i % kModelUsers));
    request.set_k(10);
    RecommendResponse response;
    const grpc::Status status = stack_->Recommend(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    answered += status.ok() && response.items_size() == 10;
    EXPECT_LE(stack_->shadow().queued(), 1u);
  }
  EXPECT_EQ(answered, kRequests);
  EXPECT_EQ(stack_->shadow().max_queued(), 1u);
  rollout::ShadowRunner::Counters c = stack_->shadow().counters();
  // One sample waits; every other one was refused and counted.
  EXPECT_EQ(c.submitted, 2u);  // the blocker and the first sample
  EXPECT_EQ(c.dropped, static_cast<uint64_t>(kRequests - 1));
  EXPECT_EQ(stack_->arm_metrics().shadow_dropped(2), static_cast<uint64_t>(kRequests - 1));
  EXPECT_THAT(stack_->RenderMetrics(),
              HasSubstr(absl::StrCat("affinity_shadow_dropped_total{version=\"2\"} ",
                                     kRequests - 1)));

  release.set_value();
  WaitForShadowDrained();
  c = stack_->shadow().counters();
  EXPECT_EQ(c.completed, 2u);
  EXPECT_EQ(stack_->arm_metrics().shadow_requests(2), 1u);
}

}  // namespace
}  // namespace affinity::server
