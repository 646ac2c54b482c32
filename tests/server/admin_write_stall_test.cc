// A catalog admin write never stalls serving: while the rules are being
// prepared for the written catalog (the admin call's warm-up, paused here
// inside the preparation), Recommend calls answer at once with the catalog
// as it was, and the next call after the preparation sees the write.
// Composed as server/main.cc composes it: CatalogAdminService's change
// callback prepares the rule engine; RecommenderService applies the rules.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/lifecycle/model_manager.h"
#include "server/observability/metrics.h"
#include "server/rpc/catalog_admin_service.h"
#include "server/rpc/recommender_service.h"
#include "server/rpc/request_validation.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/scoring/micro_batcher.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using storage::ModelStore;
using testing::TestModel;

constexpr int kItems = 50;
constexpr auto kBound = std::chrono::seconds(10);  // a bound against hangs, not a timing

CatalogItem InStock(int i, bool in_stock) {
  CatalogItem item;
  item.set_item_id(TestModel::ItemId(i));
  item.set_in_stock(in_stock);
  return item;
}

class AdminWriteStallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/admin_write_stall";
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    ASSERT_TRUE(testing::Publish(rw->get(), testing::MakeImplicitModel(5, 10, kItems, 8, 5)).ok());
    {
      auto catalog = storage::CatalogStore::Open(dir_, storage::CatalogStore::Mode::kReadWrite);
      ASSERT_TRUE(catalog.ok()) << catalog.status();
      std::vector<CatalogItem> items;
      for (int i = 0; i < kItems; ++i) items.push_back(InStock(i, true));
      ASSERT_TRUE((*catalog)->Upsert(items).ok());
    }
    auto view = rules::CatalogView::Open(dir_);
    ASSERT_TRUE(view.ok()) << view.status();
    catalog_ = std::move(*view);
    auto compiled = rules::ParseRules(
        "rules.textproto", R"pb(rule_sets { name: "shop" filters { attribute: "in_stock" equals: true } })pb");
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    engine_ = std::make_unique<rules::RuleEngine>(*compiled, catalog_.get());

    auto follower = ModelStore::Open(dir_, ModelStore::Mode::kFollower);
    ASSERT_TRUE(follower.ok());
    manager_ = std::make_unique<ModelManager>(std::move(*follower), ModelManagerOptions{});
    ASSERT_TRUE(manager_->Poll().ok());
    auto warm_all = [this] {
      for (const ArmServable& arm : manager_->routing()->arms()) engine_->Prepare(*arm.model);
    };
    warm_all();
    batcher_ = std::make_unique<MicroBatcher>(MicroBatcherOptions{});
    rule_sets_.SetLookup([this](absl::string_view name) { return engine_->Known(name); });
    service_ = std::make_unique<RecommenderService>(manager_.get(), &metrics_, batcher_.get(),
                                                    RequestLimits{}, &rule_sets_, engine_.get(),
                                                    &rule_metrics_);
    admin_ = std::make_unique<CatalogAdminService>(catalog_.get(), warm_all);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    builder.RegisterService(admin_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    stub_ = affinity::v1::Recommender::NewStub(channel);
    admin_stub_ = affinity::v1::CatalogAdmin::NewStub(channel);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Item indices of a top-k for user 0 (k = every item).
  grpc::Status Recommend(std::vector<std::string>* ids) {
    RecommendRequest request;
    request.set_user_id(TestModel::UserId(0));
    request.set_k(kItems);
    request.set_rule_set("shop");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kBound);
    RecommendResponse response;
    const grpc::Status status = stub_->Recommend(&context, request, &response);
    for (const auto& item : response.items()) ids->push_back(item.item_id());
    return status;
  }

  std::string dir_;
  std::unique_ptr<rules::CatalogView> catalog_;
  std::unique_ptr<rules::RuleEngine> engine_;
  rules::RuleMetrics rule_metrics_;
  ServerMetrics metrics_;
  RuleSetRegistry rule_sets_;
  std::unique_ptr<ModelManager> manager_;
  std::unique_ptr<MicroBatcher> batcher_;
  std::unique_ptr<RecommenderService> service_;
  std::unique_ptr<CatalogAdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> admin_stub_;
};

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST_F(AdminWriteStallTest, RequestsAnswerWhileTheWritesPreparationIsInProgress) {
  const std::string hidden = TestModel::ItemId(7);
  std::vector<std::string> before;
  ASSERT_TRUE(Recommend(&before).ok());
  ASSERT_TRUE(Contains(before, hidden));

  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  engine_->SetPrepareHookForTesting([&entered, released, armed = true]() mutable {
    if (!armed) return;
    armed = false;
    entered.set_value();
    released.wait();
  });

  // The admin write: item 7 goes out of stock; its warm-up pauses inside
  // the preparation, holding the engine's preparation lock.
  std::future<grpc::Status> write = std::async(std::launch::async, [&] {
    affinity::v1::UpsertItemsRequest request;
    *request.add_items() = InStock(7, false);
    affinity::v1::UpsertItemsResponse response;
    grpc::ClientContext context;
    return admin_stub_->UpsertItems(&context, request, &response);
  });
  ASSERT_EQ(entered.get_future().wait_for(kBound), std::future_status::ready);

  std::vector<std::string> during;
  std::future<grpc::Status> request =
      std::async(std::launch::async, [&] { return Recommend(&during); });
  const bool answered = request.wait_for(kBound) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "a Recommend waited for the admin write's preparation";
  EXPECT_TRUE(request.get().ok());
  EXPECT_TRUE(Contains(during, hidden)) << "answered from the catalog as it was";

  EXPECT_TRUE(write.get().ok());
  std::vector<std::string> after;
  ASSERT_TRUE(Recommend(&after).ok());
  EXPECT_FALSE(Contains(after, hidden)) << "the write applies once prepared";
}

}  // namespace
}  // namespace affinity::server
