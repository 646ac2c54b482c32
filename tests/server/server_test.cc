// The affinity.v1.Recommender service end to end: an in-process server
// composed as the binary composes it (ServingStack: no rules file, so an
// empty rule set over the store's empty catalog) on a loopback port, over a
// model written with the model store API.
#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/lifecycle/model_manager.h"
#include "server/observability/metrics.h"
#include "server/rpc/grpc_server.h"
#include "storage/model_store.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using affinity::v1::SimilarItemsRequest;
using storage::ModelStore;
using testing::TestModel;

std::string FreshDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + info->test_suite_name() + "." +
         info->name();
}

// grpc.health.v1.Health/Check by hand: HealthCheckRequest is field 1
// (string service); HealthCheckResponse is field 1 (enum status:
// 1 = SERVING, 2 = NOT_SERVING). Returns the status or -(gRPC code).
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::GenericStub stub(channel);
  std::string bytes;
  if (!service.empty()) {
    bytes.push_back(0x0a);
    bytes.push_back(static_cast<char>(service.size()));
    bytes += service;
  }
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return -static_cast<int>(status.error_code());
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -100;
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (out.empty()) return 0;
  if (out.size() < 2 || out[0] != 0x08) return -101;
  return out[1];
}

// Lists services through grpc.reflection.v1alpha.ServerReflection: a
// ServerReflectionRequest with list_services (field 7) set; the raw
// response bytes hold every service name.
std::string ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == want;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return "";
  const std::string bytes("\x3a\x00", 2);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  if (!step(2)) return "";
  call->WritesDone(reinterpret_cast<void*>(3));
  if (!step(3)) return "";
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  if (!step(4)) return "";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return "";
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

constexpr int kServing = 1;
constexpr int kNotServing = 2;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    rw_ = std::move(*rw);
    model_ = testing::MakeImplicitModel(7, 40, 300, 16, 25);
  }

  void PublishModel(const TestModel& model) {
    auto version = testing::Publish(rw_.get(), model);
    ASSERT_TRUE(version.ok()) << version.status();
    last_version_ = *version;
  }

  void StartServer(ScorerOptions scorer = {}, std::chrono::microseconds window = {}) {
    testing::ServingStackOptions options;
    options.instance = "";  // --events=false
    options.scorer = scorer;
    options.batch_window = window;
    auto stack = testing::ServingStack::Start(dir_, options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    manager_ = &stack_->models();
    metrics_ = &stack_->metrics();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(stack_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = affinity::v1::Recommender::NewStub(channel_);
  }

  void StartServerWithModel(ScorerOptions scorer = {}) {
    PublishModel(model_);
    StartServer(scorer);
    ASSERT_TRUE(manager_->Poll().ok());
  }

  // Users 0..users-1 get, with k = 10, the brute-force top 10 of their
  // unseen items from the last published version on the control arm.
  void ExpectBruteForceAnswers(uint32_t users) {
    for (uint32_t u = 0; u < users; ++u) {
      RecommendRequest request;
      request.set_user_id(TestModel::UserId(u));
      request.set_k(10);
      RecommendResponse response;
      ASSERT_TRUE(Recommend(request, &response).ok());
      EXPECT_EQ(response.model_version(), last_version_);
      EXPECT_EQ(response.arm(), "control");
      EXPECT_FALSE(response.fallback());
      std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
      ExpectBruteForce(response, x, 10, model_.seen[u], 1e-4);
    }
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    stack_.reset();
  }

  grpc::Status Recommend(const RecommendRequest& request, RecommendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Recommend(&context, request, response);
  }

  grpc::Status Similar(const SimilarItemsRequest& request, RecommendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->SimilarItems(&context, request, response);
  }

  // Checks the response against brute force for `query`, skipping `excluded`.
  void ExpectBruteForce(const RecommendResponse& response, const std::vector<float>& query,
                        size_t k, const std::vector<uint32_t>& excluded, double tolerance) {
    const auto want = testing::BruteForceTopK(model_, query, k, excluded);
    ASSERT_EQ(static_cast<size_t>(response.items_size()), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      EXPECT_NEAR(response.items(r).score(), want[r].second, tolerance) << "rank " << r;
      const bool tie_free =
          (r == 0 || want[r - 1].second - want[r].second > 2 * tolerance) &&
          (r + 1 == want.size() || want[r].second - want[r + 1].second > 2 * tolerance);
      if (tie_free) {
        EXPECT_EQ(response.items(r).item_id(), TestModel::ItemId(want[r].first)) << "rank " << r;
      }
      EXPECT_FALSE(response.items(r).from_fallback());
    }
  }

  std::string dir_;
  std::unique_ptr<ModelStore> rw_;
  TestModel model_;
  uint64_t last_version_ = 0;
  std::unique_ptr<testing::ServingStack> stack_;
  ModelManager* manager_ = nullptr;
  ServerMetrics* metrics_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
};

TEST_F(ServerTest, KnownUserGetsBruteForceTopKWithoutSeenItems) {
  StartServerWithModel();
  ExpectBruteForceAnswers(10);
}

TEST_F(ServerTest, FoldInOfOwnHistoryReproducesTheTrainedFactor) {
  StartServerWithModel();
  for (uint32_t u = 0; u < 8; ++u) {
    // Anonymous request carrying user u's history: the folded vector must
    // be x_u, so scores equal <x_u, y_i>.
    RecommendRequest request;
    request.set_k(15);
    for (uint32_t i : model_.seen[u]) {
      auto* r = request.add_recent();
      r->set_item_id(TestModel::ItemId(i));
      r->set_weight(1.0f);
    }
    RecommendResponse response;
    ASSERT_TRUE(Recommend(request, &response).ok());
    EXPECT_FALSE(response.fallback());
    std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
    ExpectBruteForce(response, x, 15, model_.seen[u], 2e-3);
  }
}

TEST_F(ServerTest, KnownUserWithRecentFoldsInStoredHistoryPlusRecent) {
  StartServerWithModel();
  const uint32_t u = 3;
  std::vector<uint32_t> history = model_.seen[u];
  std::vector<uint32_t> extra;
  for (uint32_t i = 0; extra.size() < 3; ++i) {
    if (!std::binary_search(history.begin(), history.end(), i)) extra.push_back(i);
  }
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(u));
  request.set_k(10);
  for (uint32_t i : extra) {
    auto* r = request.add_recent();
    r->set_item_id(TestModel::ItemId(i));
    r->set_weight(1.0f);
    history.push_back(i);
  }
  std::sort(history.begin(), history.end());
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  ExpectBruteForce(response, testing::SolveImplicitUser(model_, history), 10, history, 2e-3);
}

TEST_F(ServerTest, SeenRecentAndExcludedItemsNeverReturnedAndKIsMet) {
  StartServerWithModel();
  const uint32_t u = 5;
  // Exclude the user's true top 20 and add two recent items.
  std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
  std::vector<uint32_t> excluded = model_.seen[u];
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(u));
  for (const auto& [i, s] : testing::BruteForceTopK(model_, x, 20, model_.seen[u])) {
    request.add_exclude_item_ids(TestModel::ItemId(i));
    excluded.push_back(i);
  }
  request.add_exclude_item_ids("no-such-item");
  for (uint32_t i : {250u, 251u}) {
    auto* r = request.add_recent();
    r->set_item_id(TestModel::ItemId(i));
    r->set_weight(2.0f);
    excluded.push_back(i);
  }
  std::set<uint32_t> distinct(excluded.begin(), excluded.end());
  const int remaining = model_.items - static_cast<int>(distinct.size());
  for (int k : {1, 10, remaining, remaining + 50}) {
    request.set_k(k);
    RecommendResponse response;
    ASSERT_TRUE(Recommend(request, &response).ok());
    EXPECT_EQ(response.items_size(), std::min(k, remaining)) << "k=" << k;
    std::set<std::string> returned;
    for (const auto& item : response.items()) {
      returned.insert(item.item_id());
      for (uint32_t i : distinct) EXPECT_NE(item.item_id(), TestModel::ItemId(i));
    }
    EXPECT_EQ(returned.size(), static_cast<size_t>(response.items_size())) << "duplicates";
  }
}

TEST_F(ServerTest, UnknownUserGetsPopularFallbackWithoutExcludedItems) {
  StartServerWithModel();
  RecommendRequest request;
  request.set_user_id("someone-new");
  request.set_k(5);
  request.add_exclude_item_ids(TestModel::ItemId(model_.popular[0]));
  request.set_explain(true);
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_TRUE(response.fallback());
  ASSERT_EQ(response.items_size(), 5);
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(response.items(r).item_id(), TestModel::ItemId(model_.popular[r + 1]));
    EXPECT_TRUE(response.items(r).from_fallback());
    EXPECT_FALSE(response.items(r).explanation().empty());
  }
  EXPECT_EQ(metrics_->fallbacks(), 1u);
}

TEST_F(ServerTest, UnknownRecentItemsAreIgnoredAndCounted) {
  StartServerWithModel();
  RecommendRequest request;
  request.set_k(4);
  request.add_recent()->set_item_id("ghost-1");
  request.add_recent()->set_item_id("ghost-2");
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_TRUE(response.fallback());  // nothing left to fold in
  EXPECT_EQ(response.items_size(), 4);
  EXPECT_EQ(metrics_->unknown_recent_items(), 2u);
}

TEST_F(ServerTest, ExplicitModelsScoreStoredVectorsAndFallBackForAnonymousRecent) {
  model_.algorithm = "explicit_als";
  StartServerWithModel();
  // Known user with recent: the stored vector scores, recent items are
  // still never returned.
  const uint32_t u = 2;
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(u));
  request.set_k(10);
  std::vector<uint32_t> excluded = model_.seen[u];
  for (uint32_t i : {200u, 201u}) {
    request.add_recent()->set_item_id(TestModel::ItemId(i));
    excluded.push_back(i);
  }
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_FALSE(response.fallback());
  std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
  ExpectBruteForce(response, x, 10, excluded, 1e-4);
  // Anonymous recent-only: nothing to fold in for an explicit model.
  request.clear_user_id();
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_TRUE(response.fallback());
  EXPECT_EQ(response.items_size(), 10);
  for (const auto& item : response.items()) {
    EXPECT_NE(item.item_id(), TestModel::ItemId(200));
    EXPECT_NE(item.item_id(), TestModel::ItemId(201));
  }
}

TEST_F(ServerTest, SimilarItemsRanksByCosineAndNeverReturnsTheItem) {
  StartServerWithModel();
  const uint32_t item = 17;
  SimilarItemsRequest request;
  request.set_item_id(TestModel::ItemId(item));
  request.set_k(8);
  request.add_exclude_item_ids(TestModel::ItemId(3));
  RecommendResponse response;
  ASSERT_TRUE(Similar(request, &response).ok());
  ASSERT_EQ(response.items_size(), 8);
  auto norm = [&](uint32_t i) {
    double s = 0;
    for (int d = 0; d < model_.dims; ++d) s += double{model_.item(i)[d]} * model_.item(i)[d];
    return std::sqrt(s);
  };
  std::vector<std::pair<double, uint32_t>> cosines;
  for (int i = 0; i < model_.items; ++i) {
    if (i == static_cast<int>(item) || i == 3) continue;
    double s = 0;
    for (int d = 0; d < model_.dims; ++d) s += double{model_.item(i)[d]} * model_.item(item)[d];
    cosines.emplace_back(s / (norm(i) * norm(item)), i);
  }
  std::sort(cosines.rbegin(), cosines.rend());
  for (int r = 0; r < 8; ++r) {
    EXPECT_NEAR(response.items(r).score(), cosines[r].first, 1e-4);
    EXPECT_NE(response.items(r).item_id(), TestModel::ItemId(item));
  }
  EXPECT_EQ(response.items(0).item_id(), TestModel::ItemId(cosines[0].second));

  request.set_item_id("no-such-item");
  EXPECT_EQ(Similar(request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, InvalidRequestsAreRejectedNamingTheField) {
  StartServerWithModel();
  auto base = [] {
    RecommendRequest r;
    r.set_user_id(TestModel::UserId(0));
    r.set_k(5);
    return r;
  };
  struct Case {
    std::string field;
    RecommendRequest request;
  };
  std::vector<Case> cases;
  {
    auto r = base();
    r.set_k(0);
    cases.push_back({"k", r});
    r.set_k(-3);
    cases.push_back({"k", r});
    r.set_k(1001);
    cases.push_back({"k", r});
  }
  {
    auto r = base();
    r.clear_user_id();
    cases.push_back({"user_id", r});
    r.set_user_id(std::string(257, 'u'));
    cases.push_back({"user_id", r});
  }
  for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), -1.0f}) {
    auto r = base();
    auto* i = r.add_recent();
    i->set_item_id(TestModel::ItemId(1));
    i->set_weight(bad);
    cases.push_back({"recent[0].weight", r});
  }
  {
    auto r = base();
    for (int i = 0; i < 1001; ++i) r.add_recent()->set_item_id(TestModel::ItemId(1));
    cases.push_back({"recent", r});
  }
  {
    auto r = base();
    r.add_recent()->set_item_id("");
    cases.push_back({"recent[0].item_id", r});
  }
  {
    auto r = base();
    for (int i = 0; i < 10001; ++i) r.add_exclude_item_ids("x");
    cases.push_back({"exclude_item_ids", r});
  }
  {
    auto r = base();
    r.add_exclude_item_ids("ok");
    r.add_exclude_item_ids(std::string(300, 'x'));
    cases.push_back({"exclude_item_ids[1]", r});
  }
  {
    auto r = base();
    r.set_rule_set("black-friday");
    cases.push_back({"rule_set", r});
  }
  for (const Case& c : cases) {
    RecommendResponse response;
    grpc::Status status = Recommend(c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(status.error_message().rfind(c.field + ":", 0), 0u)
        << "expected a message starting with '" << c.field << ":', got "
        << status.error_message();
  }
  RecommendRequest ok = base();
  ok.set_rule_set("default");
  RecommendResponse response;
  EXPECT_TRUE(Recommend(ok, &response).ok());

  SimilarItemsRequest similar;
  similar.set_k(3);
  EXPECT_EQ(Similar(similar, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  similar.set_item_id(TestModel::ItemId(1));
  similar.set_k(0);
  EXPECT_EQ(Similar(similar, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_GE(metrics_->requests(ServerMetrics::kRecommend, 3), cases.size());
}

TEST_F(ServerTest, RandomRequestsGetAnAnswerOrInvalidArgument) {
  StartServerWithModel();
  std::mt19937 rng(5);
  auto random_id = [&](std::mt19937& r) {
    switch (r() % 4) {
      case 0: return TestModel::ItemId(r() % 320);  // some unknown
      case 1: return std::string(r() % 300, 'a' + r() % 26);
      case 2: return std::string();
      default: return std::string("\0\xff", 2);
    }
  };
  const float weights[] = {0.0f, 1.0f, 1e30f, -0.0f, -1.0f, std::nanf(""), 3.5f};
  for (int n = 0; n < 300; ++n) {
    RecommendRequest request;
    request.set_k(static_cast<int32_t>(rng() % 1100) - 50);
    if (rng() % 2) request.set_user_id(rng() % 2 ? TestModel::UserId(rng() % 50) : random_id(rng));
    for (int i = rng() % 6; i > 0; --i) {
      auto* r = request.add_recent();
      r->set_item_id(random_id(rng));
      r->set_weight(weights[rng() % 7]);
    }
    for (int i = rng() % 4; i > 0; --i) request.add_exclude_item_ids(random_id(rng));
    if (rng() % 5 == 0) request.set_rule_set("default");
    request.set_explain(rng() % 2);
    RecommendResponse response;
    grpc::Status status = Recommend(request, &response);
    ASSERT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                status.error_code() == grpc::StatusCode::INTERNAL)
        << status.error_code() << " " << status.error_message();
    if (status.ok()) {
      // At most 25 seen + 5 recent + 3 excluded items are taken out of 300.
      EXPECT_LE(response.items_size(), request.k());
      if (request.k() <= 250) {
        EXPECT_EQ(response.items_size(), request.k());
      }
    }
  }
  // Still serving afterwards.
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(3);
  RecommendResponse response;
  EXPECT_TRUE(Recommend(request, &response).ok());
}

TEST_F(ServerTest, ExpiredDeadlineIsDeadlineExceeded) {
  StartServerWithModel();
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(5);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  RecommendResponse response;
  EXPECT_EQ(stub_->Recommend(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(ServerTest, NoModelIsUnavailableAndHealthTurnsServingWhenOneLoads) {
  StartServer();
  EXPECT_TRUE(absl::IsNotFound(manager_->Poll()));
  EXPECT_EQ(HealthStatus(channel_, ""), kNotServing);
  EXPECT_EQ(HealthStatus(channel_, kRecommenderServiceName), kNotServing);
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(5);
  RecommendResponse response;
  EXPECT_EQ(Recommend(request, &response).error_code(), grpc::StatusCode::UNAVAILABLE);

  PublishModel(model_);
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(HealthStatus(channel_, ""), kServing);
  EXPECT_EQ(HealthStatus(channel_, kRecommenderServiceName), kServing);
  EXPECT_TRUE(Recommend(request, &response).ok());
  EXPECT_EQ(response.model_version(), last_version_);
}

TEST_F(ServerTest, ReflectionListsTheRecommenderAndHealthServices) {
  StartServer();
  const std::string services = ReflectionListServices(channel_);
  EXPECT_NE(services.find("affinity.v1.Recommender"), std::string::npos) << services;
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos) << services;
}

TEST_F(ServerTest, HotSwapServesTheNewVersionWithoutFailedRequests) {
  StartServerWithModel();
  const uint64_t first = last_version_;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, requests{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      for (int n = 0; !stop && n < 20000; ++n) {
        RecommendRequest request;
        request.set_user_id(TestModel::UserId((t * 7 + n) % model_.users));
        request.set_k(10);
        RecommendResponse response;
        if (!Recommend(request, &response).ok() || response.items_size() != 10) ++failures;
        ++requests;
      }
    });
  }
  TestModel second = testing::MakeImplicitModel(99, 40, 300, 16, 25);
  PublishModel(second);
  ASSERT_NE(last_version_, first);
  manager_->StartPolling(std::chrono::milliseconds(20));
  for (int i = 0; i < 500 && manager_->ServingVersions()["control"] != last_version_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& c : clients) c.join();
  manager_->StopPolling();
  EXPECT_EQ(failures.load(), 0) << "of " << requests.load();
  EXPECT_GT(requests.load(), 0);

  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(10);
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_EQ(response.model_version(), last_version_);
  model_ = second;
  std::vector<float> x(model_.user(0), model_.user(0) + model_.dims);
  ExpectBruteForce(response, x, 10, model_.seen[0], 1e-4);
}

TEST_F(ServerTest, ReplacedVersionLivesUntilItsLastRequestEndsAndTheNextPollFreesIt) {
  StartServerWithModel();
  absl::StatusOr<ModelManager::Route> routed = manager_->RouteRequest(TestModel::UserId(0), "");
  ASSERT_TRUE(routed.ok()) << routed.status();
  ModelManager::Route held = *std::move(routed);
  ASSERT_NE(held.model, nullptr);
  const uint64_t first = held.model->version;
  std::weak_ptr<const LoadedModel> watch = held.model;
  PublishModel(testing::MakeImplicitModel(99, 40, 300, 16, 25));
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->ControlRoute().model->version, last_version_);
  // The in-flight request still reads its own version.
  auto user = held.model->reader->GetUser(TestModel::UserId(0));
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->factors, std::vector<float>(model_.user(0), model_.user(0) + model_.dims));
  EXPECT_EQ(held.model->version, first);
  held.model.reset();
  EXPECT_FALSE(watch.expired()) << "freed on the request's thread";
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_TRUE(watch.expired());
}

TEST_F(ServerTest, PinnedLiveVersionRollsBack) {
  StartServerWithModel();
  const uint64_t first = last_version_;
  PublishModel(testing::MakeImplicitModel(99, 40, 300, 16, 25));
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->ServingVersions()["control"], last_version_);
  ASSERT_TRUE(rw_->SetLiveVersion(first).ok());
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->ServingVersions()["control"], first);
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(10);
  RecommendResponse response;
  ASSERT_TRUE(Recommend(request, &response).ok());
  EXPECT_EQ(response.model_version(), first);
  std::vector<float> x(model_.user(0), model_.user(0) + model_.dims);
  ExpectBruteForce(response, x, 10, model_.seen[0], 1e-4);
}

TEST_F(ServerTest, HnswScorerServesTheSameContract) {
  ScorerOptions hnsw;
  hnsw.kind = ScorerKind::kHnsw;
  StartServerWithModel(hnsw);
  for (uint32_t u = 0; u < 5; ++u) {
    RecommendRequest request;
    request.set_user_id(TestModel::UserId(u));
    request.set_k(10);
    RecommendResponse response;
    ASSERT_TRUE(Recommend(request, &response).ok());
    ASSERT_EQ(response.items_size(), 10);
    for (const auto& item : response.items()) {
      for (uint32_t i : model_.seen[u]) EXPECT_NE(item.item_id(), TestModel::ItemId(i));
    }
  }
}

// The int8 and IVF scorers with k x 1000 candidates, which cover the test
// catalog (for IVF: every list is scanned), answer as a brute-force scan.
TEST_F(ServerTest, Int8ScorerServesExactAnswersWhenCandidatesCoverTheCatalog) {
  ScorerOptions int8;
  int8.kind = ScorerKind::kInt8;
  int8.int8_candidate_factor = 1000;
  StartServerWithModel(int8);
  ExpectBruteForceAnswers(5);
}

TEST_F(ServerTest, IvfScorerServesExactAnswersWhenCandidatesCoverTheCatalog) {
  ScorerOptions ivf;
  ivf.kind = ScorerKind::kIvf;
  ivf.int8_candidate_factor = 1000;
  StartServerWithModel(ivf);
  ExpectBruteForceAnswers(5);
}

TEST_F(ServerTest, MicroBatchedConcurrentRequestsMatchBruteForce) {
  PublishModel(model_);
  StartServer({}, std::chrono::microseconds(2000));
  ASSERT_TRUE(manager_->Poll().ok());
  std::vector<std::thread> clients;
  std::vector<RecommendResponse> responses(8);
  std::vector<std::string> errors(8);
  for (int u = 0; u < 8; ++u) {
    clients.emplace_back([&, u] {
      RecommendRequest request;
      request.set_user_id(TestModel::UserId(u));
      request.set_k(10);
      grpc::Status status = Recommend(request, &responses[u]);
      errors[u] = status.ok() ? "" : std::to_string(status.error_code()) + " " + status.error_message();
    });
  }
  for (auto& c : clients) c.join();
  for (int u = 0; u < 8; ++u) {
    ASSERT_EQ(errors[u], "");
    std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
    ExpectBruteForce(responses[u], x, 10, model_.seen[u], 1e-4);
  }
}

}  // namespace
}  // namespace affinity::server
