#include "tools/loadgen/open_loop_runner.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace affinity::loadgen {
namespace {

// Answers OK for user "good", OK from the most-popular fallback for "new"
// (every item) and "padded" (one of two items), and NOT_FOUND for anyone
// else; with `stall`, holds every call until the client's deadline has
// passed.
class FakeRecommender final : public affinity::v1::Recommender::Service {
 public:
  explicit FakeRecommender(bool stall) : stall_(stall) {}

  grpc::Status Recommend(grpc::ServerContext* context,
                         const affinity::v1::RecommendRequest* request,
                         affinity::v1::RecommendResponse* response) override {
    if (stall_) {
      while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status(grpc::StatusCode::CANCELLED, "gave up");
    }
    if (request->user_id() == "new" || request->user_id() == "padded") {
      response->set_fallback(true);
      affinity::v1::ScoredItem* first = response->add_items();
      first->set_item_id("i1");
      first->set_from_fallback(request->user_id() == "new");
      affinity::v1::ScoredItem* second = response->add_items();
      second->set_item_id("i2");
      second->set_from_fallback(true);
      return grpc::Status::OK;
    }
    if (request->user_id() != "good") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown user " + request->user_id());
    }
    response->add_items()->set_item_id("i1");
    return grpc::Status::OK;
  }

 private:
  const bool stall_;
};

class LiveFake {
 public:
  explicit LiveFake(bool stall) : service_(stall) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }
  ~LiveFake() { server_->Shutdown(std::chrono::system_clock::now()); }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  affinity::v1::Recommender::Stub& stub() { return *stub_; }

 private:
  FakeRecommender service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
};

RequestMix TwoUsers() {
  RequestMix mix;
  mix.users = {"good", "bad"};
  mix.seed = 7;
  return mix;
}

TEST(OpenLoopRunnerTest, FallbackAnswersAreCounted) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  RequestMix mix;
  mix.users = {"good", "new", "padded"};
  mix.seed = 3;
  auto generator = RequestGenerator::Create(mix);
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 2000;
  options.max_requests = 90;
  options.deadline = absl::Seconds(30);
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);

  auto replay = RequestGenerator::Create(mix);
  ASSERT_TRUE(replay.ok());
  int64_t fresh = 0, padded = 0;
  for (int i = 0; i < 90; ++i) {
    const std::string user = replay->NextRecommend().user_id();
    fresh += user == "new";
    padded += user == "padded";
  }
  ASSERT_GT(fresh, 0);
  ASSERT_GT(padded, 0);
  EXPECT_EQ(result.by_code.at(grpc::StatusCode::OK), 90);
  EXPECT_EQ(result.fallback_answers, fresh + padded);
  EXPECT_EQ(result.fallback_only_answers, fresh);
}

TEST(OpenLoopRunnerTest, EveryDueRequestIsAnsweredAndClassified) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 2000;
  options.duration = absl::Seconds(10);
  options.max_requests = 60;
  options.deadline = absl::Seconds(30);
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);

  // The same seed replays the same users: count the ones the fake accepts.
  auto replay = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(replay.ok());
  int64_t good = 0;
  for (int i = 0; i < 60; ++i) good += replay->NextRecommend().user_id() == "good";
  ASSERT_GT(good, 0);
  ASSERT_LT(good, 60);

  EXPECT_EQ(result.due, 60);
  EXPECT_EQ(result.sent, 60);
  EXPECT_EQ(result.completed, 60);
  EXPECT_EQ(result.skipped_in_flight, 0);
  EXPECT_EQ(result.by_code.at(grpc::StatusCode::OK), good);
  EXPECT_EQ(result.by_code.at(grpc::StatusCode::NOT_FOUND), 60 - good);
  EXPECT_EQ(result.latency_ok.count(), static_cast<uint64_t>(good));
  EXPECT_EQ(result.latency_all.count(), 60u);
  EXPECT_EQ(result.latency_failed.count(), static_cast<uint64_t>(60 - good));
  EXPECT_EQ(result.first_error.at(grpc::StatusCode::NOT_FOUND), "unknown user bad");
  EXPECT_EQ(result.first_error.count(grpc::StatusCode::OK), 0u);
}

TEST(OpenLoopRunnerTest, EveryAnswerIsReportedUnderItsRequestsIndex) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 2000;
  options.max_requests = 40;
  options.deadline = absl::Seconds(30);
  std::map<int64_t, grpc::StatusCode> answers;
  int64_t calls = 0;
  options.on_answer = [&](int64_t index, const grpc::Status& status,
                          const affinity::v1::RecommendResponse& response) {
    ++calls;
    answers[index] = status.error_code();
    if (status.ok()) {
      EXPECT_EQ(response.items_size(), 1);
    }
  };
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);
  ASSERT_EQ(result.completed, 40);
  EXPECT_EQ(calls, 40);
  // Request i went to the user the same seed draws i-th: OK for "good".
  auto replay = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(replay.ok());
  ASSERT_EQ(answers.size(), 40u);
  for (int64_t i = 0; i < 40; ++i) {
    const bool good = replay->NextRecommend().user_id() == "good";
    EXPECT_EQ(answers[i], good ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND) << i;
  }
}

TEST(OpenLoopRunnerTest, LatenciesCarryEachRequestsDueTimeOnTheWallClock) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 200;  // one request every 5 ms
  options.max_requests = 20;
  options.deadline = absl::Seconds(30);
  std::map<int64_t, absl::Time> due;
  int64_t failed = 0;
  options.on_latency = [&](int64_t index, absl::Time when, absl::Duration latency,
                           grpc::StatusCode code) {
    due[index] = when;
    EXPECT_GE(latency, absl::ZeroDuration());
    if (code != grpc::StatusCode::OK) ++failed;
  };
  const absl::Time before = absl::Now();
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);
  const absl::Time after = absl::Now();
  ASSERT_EQ(result.completed, 20);
  ASSERT_EQ(due.size(), 20u);
  EXPECT_EQ(failed, result.completed - result.by_code.at(grpc::StatusCode::OK));
  for (int64_t i = 0; i < 20; ++i) {
    EXPECT_GE(due[i], before) << i;
    EXPECT_LE(due[i], after) << i;
    // Due times follow the schedule: i / qps after the first.
    EXPECT_LE(absl::AbsDuration(due[i] - due[0] - absl::Milliseconds(5 * i)),
              absl::Microseconds(10))
        << i;
  }
}

TEST(OpenLoopRunnerTest, StopEndsTheScheduleAndEverySentCallIsWaitedFor) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 100;
  options.duration = absl::Seconds(60);
  options.deadline = absl::Seconds(30);
  std::atomic<bool> stop{false};
  options.stop = &stop;
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.store(true);
  });
  const absl::Time before = absl::Now();
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);
  stopper.join();
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));
  // About 30 requests were due in 300 ms; far fewer than the 6,000 of a minute.
  EXPECT_GT(result.sent, 5);
  EXPECT_LT(result.sent, 300);
  EXPECT_EQ(result.completed, result.sent);
  EXPECT_EQ(result.due, result.sent);
}

TEST(OpenLoopRunnerTest, DurationBoundsTheSchedule) {
  LiveFake fake(/*stall=*/false);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 100;
  options.duration = absl::Milliseconds(250);
  options.deadline = absl::Seconds(30);
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);
  // Due at 0, 10, ..., 240 ms.
  EXPECT_EQ(result.due, 25);
  EXPECT_EQ(result.completed, result.sent);
}

// A server that answers nothing: the schedule goes on regardless, requests
// beyond max_in_flight are skipped, and the outstanding ones end at their
// deadline.
TEST(OpenLoopRunnerTest, StalledServerDoesNotSlowTheSchedule) {
  LiveFake fake(/*stall=*/true);
  ASSERT_TRUE(fake.ok());
  auto generator = RequestGenerator::Create(TwoUsers());
  ASSERT_TRUE(generator.ok());
  LoadOptions options;
  options.qps = 1000;
  options.max_requests = 10;
  options.max_in_flight = 3;
  options.deadline = absl::Seconds(3);
  const LoadResult result = RunOpenLoop(fake.stub(), *generator, options);
  EXPECT_EQ(result.due, 10);
  EXPECT_EQ(result.sent, 3);
  EXPECT_EQ(result.skipped_in_flight, 7);
  EXPECT_EQ(result.completed, 3);
  EXPECT_EQ(result.max_in_flight_seen, 3);
  EXPECT_EQ(result.by_code.at(grpc::StatusCode::DEADLINE_EXCEEDED), 3);
  // Latency counts from the due time, so it includes the whole deadline.
  EXPECT_GE(result.latency_all.Min(), 3'000'000'000u * 63 / 64);
}

}  // namespace
}  // namespace affinity::loadgen
