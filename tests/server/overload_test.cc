// Overload: a server whose request threads are all busy refuses further
// calls at once with RESOURCE_EXHAUSTED (never after a deadline), keeps
// answering health checks, counts the refusals in
// affinity_requests_shed_total and serves again once the load drops; the
// binary bounds its request threads by default (64 per core).
//
// Saturation is made deterministic with the micro-batcher: every call that
// gets a thread waits out a long batch window while holding it.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/http_get.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using testing::TestModel;

constexpr int kUsers = 40;

std::string FreshDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return testing::TmpDir() + "/" + info->test_suite_name() + "." + info->name();
}

void PublishModel(const std::string& dir) {
  auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(7, kUsers, 300, 16, 25)).ok());
}

// grpc.health.v1.Health/Check for service "" by hand (request: no field
// set; response: field 1, enum status, 1 = SERVING). Returns the status, or
// -(gRPC code) when the call fails.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return -static_cast<int>(status.error_code());
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -100;
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out.size() == 2 && out[0] == 0x08 ? out[1] : -101;
}

// `n` Recommend calls for known users, all started at once (30 s
// deadlines); Wait() returns their status codes in the order they completed.
class Burst {
 public:
  Burst(affinity::v1::Recommender::Stub& stub, int n) : calls_(n) {
    for (int i = 0; i < n; ++i) {
      Call& call = calls_[i];
      call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      RecommendRequest request;
      request.set_user_id(TestModel::UserId(static_cast<uint32_t>(i % kUsers)));
      request.set_k(5);
      call.reader = stub.AsyncRecommend(&call.context, request, &queue_);
      call.reader->Finish(&call.response, &call.status, &call);
    }
  }
  ~Burst() { queue_.Shutdown(); }

  std::vector<grpc::Status> Wait() {
    std::vector<grpc::Status> order;
    void* tag = nullptr;
    bool ok = false;
    while (order.size() < calls_.size() && queue_.Next(&tag, &ok)) {
      order.push_back(static_cast<Call*>(tag)->status);
    }
    return order;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    RecommendResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<RecommendResponse>> reader;
  };
  grpc::CompletionQueue queue_;
  std::vector<Call> calls_;
};

int Count(const std::vector<grpc::Status>& statuses, grpc::StatusCode code) {
  int n = 0;
  for (const grpc::Status& s : statuses) n += s.error_code() == code;
  return n;
}

grpc::Status RecommendOnce(affinity::v1::Recommender::Stub& stub, RecommendResponse* response) {
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(3));
  request.set_k(5);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub.Recommend(&context, request, response);
}

TEST(OverloadTest, SaturatedServerRefusesAtOnceKeepsItsHealthAndRecovers) {
  const std::string dir = FreshDir();
  PublishModel(dir);
  testing::ServingStackOptions options;
  options.instance = "";
  options.threads = 2;
  options.max_batch = 32;
  options.batch_window = std::chrono::seconds(2);  // an admitted call holds its thread 2 s
  auto stack = testing::ServingStack::Start(dir, options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->models().Poll().ok());
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*stack)->port()),
                                     grpc::InsecureChannelCredentials());

  constexpr int kCalls = 16;
  Burst burst((*stack)->stub(), kCalls);
  // Health checks have a thread of their own: still answered while saturated.
  EXPECT_EQ(HealthStatus(channel), 1);
  const std::vector<grpc::Status> order = burst.Wait();
  ASSERT_EQ(order.size(), static_cast<size_t>(kCalls));

  const int served = Count(order, grpc::StatusCode::OK);
  const int refused = Count(order, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(served + refused, kCalls) << "every call is answered or refused, none times out";
  EXPECT_GE(served, 1);
  EXPECT_GE(refused, 1);
  EXPECT_LE(served, options.threads + 2) << "threads beyond the bound served calls";
  // Refused at once: every refusal completed before the first admitted call
  // left its 2 s batch window, none waited for a thread to free up.
  size_t first_ok = 0;
  while (first_ok < order.size() && !order[first_ok].ok()) ++first_ok;
  for (size_t i = first_ok; i < order.size(); ++i) {
    EXPECT_TRUE(order[i].ok()) << "call completed " << i << " was refused after a served call: "
                               << order[i].error_message();
  }
  EXPECT_EQ((*stack)->metrics().shed(), static_cast<uint64_t>(refused));
  EXPECT_NE((*stack)->RenderMetrics().find("affinity_requests_shed_total " +
                                           std::to_string(refused) + "\n"),
            std::string::npos);

  // The load dropped: served again, with a full answer. A burst call's answer
  // can reach the client a moment before its server thread is handed back to
  // the pool, so, like a client, retry a refusal for a while; nothing but a
  // refusal may come first.
  RecommendResponse response;
  grpc::Status again = RecommendOnce((*stack)->stub(), &response);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (again.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    again = RecommendOnce((*stack)->stub(), &response);
  }
  ASSERT_TRUE(again.ok()) << again.error_code() << " " << again.error_message();
  EXPECT_EQ(response.items_size(), 5);
}

TEST(OverloadTest, TheBinaryBoundsRequestThreadsByDefault) {
  const int bound = 64 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (bound >= 1024) GTEST_SKIP() << "a bound of " << bound << " is not below --max_batch's 1024";
  const std::string dir = FreshDir();
  PublishModel(dir);
  const std::string log = dir + "-server.log";
  // No --threads: the default bound. Admitted calls hold their thread in a
  // 100 ms batch window (a pass starts early only with --max_batch calls
  // queued, and this one is larger than the bound).
  const pid_t pid = testing::Spawn({testing::kServerBinary, "--db=" + dir, "--listen=127.0.0.1:0",
                                    "--metrics_listen=127.0.0.1:0", "--admin_listen=",
                                    "--events=false", "--autopilot_seconds=0",
                                    "--max_batch=1024", "--batch_window_us=100000"},
                                   log);
  const std::string text = testing::WaitForLog(log, "routing (rollout revision");
  EXPECT_NE(text.find("threads " + std::to_string(bound) + ","), std::string::npos) << text;
  const std::optional<int> port = testing::LoggedPort(text, "started: grpc");
  ASSERT_TRUE(port.has_value()) << text;
  const std::optional<int> metrics_port = testing::LoggedPort(text, "\\(port \\d+\\), metrics");
  ASSERT_TRUE(metrics_port.has_value()) << text;
  auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));

  // Far more calls at once than the bound: unbounded, every one would get a
  // thread and wait in the batch window; bounded, the excess is refused.
  const std::vector<grpc::Status> order = Burst(*stub, 4 * bound + 32).Wait();
  const int refused = Count(order, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(Count(order, grpc::StatusCode::OK) + refused, static_cast<int>(order.size()));
  EXPECT_NE(testing::HttpGetBody(*metrics_port, "/metrics")
                .find("affinity_requests_shed_total " + std::to_string(refused) + "\n"),
            std::string::npos);
  RecommendResponse response;
  EXPECT_TRUE(RecommendOnce(*stub, &response).ok());

  // The channel goes first, or the drain waits out its grace period.
  stub.reset();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(testing::WaitExit(pid), 0) << testing::ReadFile(log);
}

}  // namespace
}  // namespace affinity::server
