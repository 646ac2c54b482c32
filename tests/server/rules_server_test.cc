// The whole rule pipeline through the gRPC service, on a small model with
// an on-disk catalog: filtered, excluded and out-of-stock items are never
// returned, diversity caps hold, pins land on their slots, k is met when
// enough items qualify, and catalog updates through the admin service are
// in the next answer.
#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/rpc/catalog_admin_service.h"
#include "server/rpc/grpc_server.h"
#include "server/observability/metrics.h"
#include "server/scoring/micro_batcher.h"
#include "server/lifecycle/model_manager.h"
#include "server/rpc/recommender_service.h"
#include "server/rpc/request_validation.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/rules/prepared_rules.h"
#include "server/rules/rule_pipeline.h"
#include "server/scoring/int8_scorer.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/exposition.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using storage::ModelStore;
using testing::TestModel;

// The value of the rendered counter `name` whose labels are `labels` (0
// when it has no such series); a rendering that is not valid exposition
// text fails the test.
uint64_t CounterValue(const std::string& rendered, const std::string& name,
                      const std::map<std::string, std::string>& labels = {}) {
  const absl::StatusOr<testing::Exposition> parsed = testing::ParseExposition(rendered);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return 0;
  for (const testing::Sample& sample : parsed->samples) {
    if (sample.name == name && sample.labels == labels) return static_cast<uint64_t>(sample.value);
  }
  return 0;
}

constexpr int kCatalogItems = 280;  // model items 280..299 are not in the catalog
constexpr size_t kDims = 16;

std::string FreshDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + info->test_suite_name() + "." +
         info->name();
}

CatalogItem MakeItem(int i) {
  CatalogItem item;
  item.set_item_id(TestModel::ItemId(i));
  item.add_categories("g" + std::to_string(i % 5));
  item.set_brand("b" + std::to_string(i % 4));
  item.set_price(i);
  item.set_in_stock(i % 7 != 0);
  return item;
}

constexpr char kRules[] = R"pb(
  blocklist: "item-3"
  rule_sets {
    name: "shop"
    filters { attribute: "in_stock" equals: true }
    filters { attribute: "category" none_of: "g0" }
    diversity { attribute: "brand" max_per_value: 3 top: 10 }
    pins { item_id: "extra-1" slot: 1 }
    pins { item_id: "item-11" slot: 3 }
    pins { item_id: "item-10" slot: 4 }
  }
  rule_sets {
    name: "g1"
    filters { attribute: "category" any_of: "g1" }
    filters { attribute: "in_stock" equals: true }
  }
  rule_sets {
    name: "tiny"
    filters { attribute: "price" min: 100 max: 104 }
  }
)pb";

class RulesServerTest : public ::testing::Test {
 protected:
  virtual ModelManagerOptions ManagerOptions() const { return {}; }
  virtual std::string Rules() const { return kRules; }

  void SetUp() override {
    dir_ = FreshDir();
    auto rw = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    model_ = testing::MakeImplicitModel(11, 40, 300, static_cast<int>(kDims), 25);
    ASSERT_TRUE(testing::Publish(rw->get(), model_).ok());
    {
      auto catalog = storage::CatalogStore::Open(dir_, storage::CatalogStore::Mode::kReadWrite);
      ASSERT_TRUE(catalog.ok()) << catalog.status();
      std::vector<CatalogItem> items;
      for (int i = 0; i < kCatalogItems; ++i) items.push_back(MakeItem(i));
      for (int e = 0; e < 3; ++e) {
        CatalogItem extra;
        extra.set_item_id("extra-" + std::to_string(e));
        extra.add_categories("g2");
        extra.set_brand("new");
        extra.set_price(1000);
        extra.set_in_stock(true);
        items.push_back(extra);
      }
      ASSERT_TRUE((*catalog)->Upsert(items).ok());
    }
    auto view = rules::CatalogView::Open(dir_);
    ASSERT_TRUE(view.ok()) << view.status();
    catalog_ = std::move(*view);
    auto compiled = rules::ParseRules("rules.textproto", Rules());
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    engine_ = std::make_unique<rules::RuleEngine>(*compiled, catalog_.get());

    auto follower = ModelStore::Open(dir_, ModelStore::Mode::kFollower);
    ASSERT_TRUE(follower.ok());
    manager_ = std::make_unique<ModelManager>(std::move(*follower), ManagerOptions());
    // Wired as affinity-server wires them: versions are prepared before they
    // serve, a rules reload prepares the serving versions, and a catalog
    // change is prepared by whoever made it (prepare_serving_).
    manager_->SetWarmUp([this](const LoadedModel& model) { engine_->Prepare(model); });
    engine_->SetServingModels([this] { return manager_->ServingModels(); });
    prepare_serving_ = [this] {
      for (const auto& model : manager_->ServingModels()) engine_->Prepare(*model);
    };
    ASSERT_TRUE(manager_->Poll().ok());
    batcher_ = std::make_unique<MicroBatcher>(MicroBatcherOptions{});
    rule_sets_.SetLookup([this](absl::string_view name) { return engine_->Known(name); });
    service_ = std::make_unique<RecommenderService>(manager_.get(), &metrics_, batcher_.get(),
                                                    RequestLimits{}, &rule_sets_, engine_.get(),
                                                    &rule_metrics_);
    admin_ = std::make_unique<CatalogAdminService>(catalog_.get(), prepare_serving_);
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

  RecommendResponse Recommend(const std::string& user, int k, const std::string& rule_set,
                              bool explain = false) {
    RecommendRequest request;
    request.set_user_id(user);
    request.set_k(k);
    request.set_rule_set(rule_set);
    request.set_explain(explain);
    grpc::ClientContext context;
    RecommendResponse response;
    grpc::Status status = stub_->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Index of a model item id ("item-N"), -1 otherwise.
  static int IndexOf(const std::string& id) {
    if (id.rfind("item-", 0) != 0) return -1;
    return std::stoi(id.substr(5));
  }

  bool Seen(uint32_t user, int index) const {
    return std::binary_search(model_.seen[user].begin(), model_.seen[user].end(),
                              static_cast<uint32_t>(index));
  }

  std::string dir_;
  TestModel model_;
  std::unique_ptr<rules::CatalogView> catalog_;
  std::unique_ptr<rules::RuleEngine> engine_;
  std::function<void()> prepare_serving_;
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

TEST_F(RulesServerTest, ShopRulesFilterExcludeDiversifyAndPin) {
  for (uint32_t u = 0; u < 40; ++u) {
    const RecommendResponse response = Recommend(TestModel::UserId(u), 20, "shop");
    ASSERT_EQ(response.items_size(), 20) << "user " << u;
    std::map<std::string, int> per_brand;
    std::set<std::string> ids;
    for (int slot = 0; slot < response.items_size(); ++slot) {
      const std::string& id = response.items(slot).item_id();
      EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
      const int index = IndexOf(id);
      if (index < 0) {
        EXPECT_EQ(id, "extra-1") << "catalog-only items appear only when pinned";
        continue;
      }
      EXPECT_LT(index, kCatalogItems) << "not in the catalog: fails in_stock";
      EXPECT_NE(index % 7, 0) << id << " is out of stock";
      EXPECT_NE(index % 5, 0) << id << " is in the filtered category g0";
      EXPECT_NE(id, "item-3") << "blocklisted";
      if (id != "item-11") {
        EXPECT_FALSE(Seen(u, index)) << id << " was seen by user " << u;
      }
      if (slot < 10 && id != "item-11") ++per_brand["b" + std::to_string(index % 4)];
    }
    for (const auto& [brand, count] : per_brand) EXPECT_LE(count, 3) << brand;
    EXPECT_EQ(response.items(0).item_id(), "extra-1");
    EXPECT_EQ(response.items(0).score(), 0.0f) << "not in the model: not scored";
    EXPECT_EQ(response.items(2).item_id(), "item-11") << "pinned even when seen";
    double want = 0;
    for (int d = 0; d < model_.dims; ++d) want += double{model_.user(u)[d]} * model_.item(11)[d];
    EXPECT_NEAR(response.items(2).score(), want, 1e-4) << "a pinned model item keeps its score";
    EXPECT_EQ(ids.count("item-10"), 0u) << "item-10 (g0) fails the filters: never pinned";
  }
  EXPECT_GT(rule_metrics_.items("shop", "pin", "pinned"), 0u);
  EXPECT_GT(rule_metrics_.items("shop", "pin", "dropped"), 0u);
  EXPECT_GT(rule_metrics_.items("shop", "filter", "dropped"), 0u);
}

TEST_F(RulesServerTest, ExcludedItemsAreNeverPinned) {
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(2));
  request.set_k(10);
  request.set_rule_set("shop");
  request.add_exclude_item_ids("extra-1");
  request.add_exclude_item_ids("item-11");
  grpc::ClientContext context;
  RecommendResponse response;
  ASSERT_TRUE(stub_->Recommend(&context, request, &response).ok());
  ASSERT_EQ(response.items_size(), 10);
  for (const auto& item : response.items()) {
    EXPECT_NE(item.item_id(), "extra-1");
    EXPECT_NE(item.item_id(), "item-11");
  }
}

TEST_F(RulesServerTest, SelectiveFilterReturnsTheExactTopKOfTheAllowedItems) {
  for (uint32_t u = 0; u < 10; ++u) {
    std::vector<uint32_t> not_allowed = model_.seen[u];
    for (int i = 0; i < model_.items; ++i) {
      if (!(i < kCatalogItems && i % 5 == 1 && i % 7 != 0) || i == 3) not_allowed.push_back(i);
    }
    std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
    const auto want = testing::BruteForceTopK(model_, x, 15, not_allowed);
    const RecommendResponse response = Recommend(TestModel::UserId(u), 15, "g1");
    ASSERT_EQ(response.items_size(), 15);
    for (int r = 0; r < 15; ++r) {
      EXPECT_EQ(response.items(r).item_id(), TestModel::ItemId(want[r].first)) << "rank " << r;
      EXPECT_FALSE(response.items(r).from_fallback());
    }
  }
}

TEST_F(RulesServerTest, TooFewQualifyingItemsGiveShortAnswersNeverInvalidOnes) {
  // "tiny" allows items 100..104 only; seen ones stay excluded.
  for (uint32_t u = 0; u < 40; ++u) {
    const RecommendResponse response = Recommend(TestModel::UserId(u), 10, "tiny");
    int qualifying = 0;
    for (int i = 100; i <= 104; ++i) qualifying += !Seen(u, i);
    EXPECT_EQ(response.items_size(), qualifying) << "user " << u;
    for (const auto& item : response.items()) {
      const int index = IndexOf(item.item_id());
      EXPECT_GE(index, 100);
      EXPECT_LE(index, 104);
    }
  }
}

TEST_F(RulesServerTest, UnknownUserGetsFallbackThatPassesTheFilters) {
  const RecommendResponse response = Recommend("nobody", 12, "shop", /*explain=*/true);
  ASSERT_EQ(response.items_size(), 12);
  EXPECT_TRUE(response.fallback());
  EXPECT_EQ(response.items(0).item_id(), "extra-1");
  EXPECT_NE(response.items(0).explanation().find("pinned at slot 1"), std::string::npos)
      << response.items(0).explanation();
  for (int slot = 1; slot < response.items_size(); ++slot) {
    const auto& item = response.items(slot);
    const int index = IndexOf(item.item_id());
    if (item.item_id() == "item-11") continue;
    ASSERT_GE(index, 0) << item.item_id();
    EXPECT_TRUE(index < kCatalogItems && index % 7 != 0 && index % 5 != 0) << item.item_id();
    EXPECT_TRUE(item.from_fallback());
    EXPECT_NE(item.explanation().find("fallback"), std::string::npos) << item.explanation();
  }
}

TEST_F(RulesServerTest, CatalogUpdateThroughTheAdminServiceIsInTheNextAnswer) {
  const std::string user = TestModel::UserId(4);
  const RecommendResponse before = Recommend(user, 10, "g1");
  ASSERT_EQ(before.items_size(), 10);
  const std::string top = before.items(0).item_id();
  CatalogItem update = MakeItem(IndexOf(top));
  update.set_in_stock(false);
  affinity::v1::UpsertItemsRequest upsert;
  *upsert.add_items() = update;
  affinity::v1::UpsertItemsResponse upserted;
  grpc::ClientContext context;
  ASSERT_TRUE(admin_stub_->UpsertItems(&context, upsert, &upserted).ok());
  EXPECT_EQ(upserted.upserted(), 1);
  const RecommendResponse after = Recommend(user, 10, "g1");
  ASSERT_EQ(after.items_size(), 10);
  for (const auto& item : after.items()) EXPECT_NE(item.item_id(), top);
  EXPECT_EQ(after.items(0).item_id(), before.items(1).item_id());
  // The write reached the store: a new reader sees it.
  auto reader = storage::CatalogStore::Open(dir_, storage::CatalogStore::Mode::kFollower);
  ASSERT_TRUE(reader.ok());
  auto stored = (*reader)->Get(top);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->in_stock());

  // Deleting the item takes it out of the catalog: "g1" needs a category.
  affinity::v1::DeleteItemsRequest del;
  del.add_item_ids(before.items(1).item_id());
  affinity::v1::DeleteItemsResponse deleted;
  grpc::ClientContext context2;
  ASSERT_TRUE(admin_stub_->DeleteItems(&context2, del, &deleted).ok());
  EXPECT_EQ(deleted.deleted(), 1);
  const RecommendResponse after_delete = Recommend(user, 10, "g1");
  for (const auto& item : after_delete.items()) {
    EXPECT_NE(item.item_id(), before.items(1).item_id());
  }
}

TEST_F(RulesServerTest, WritesByAnotherProcessArePickedUpByRefresh) {
  const std::string user = TestModel::UserId(6);
  const std::string top = Recommend(user, 5, "g1").items(0).item_id();
  {
    auto writer = storage::CatalogStore::Open(dir_, storage::CatalogStore::Mode::kReadWrite);
    ASSERT_TRUE(writer.ok()) << writer.status();
    CatalogItem update = MakeItem(IndexOf(top));
    update.set_in_stock(false);
    ASSERT_TRUE((*writer)->Upsert({update}).ok());
    // While this writer holds the store, admin writes report a busy catalog.
    affinity::v1::UpsertItemsRequest upsert;
    *upsert.add_items() = MakeItem(1);
    affinity::v1::UpsertItemsResponse response;
    grpc::ClientContext context;
    grpc::Status status = admin_stub_->UpsertItems(&context, upsert, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(status.error_message().find("catalog is busy, retry"), std::string::npos)
        << status.error_message();
  }
  const std::shared_ptr<const rules::CatalogSnapshot> old_catalog = catalog_->snapshot();
  absl::StatusOr<bool> changed = catalog_->Refresh();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  // The re-read shares every unchanged record with the snapshot before it.
  const std::shared_ptr<const rules::CatalogSnapshot> new_catalog = catalog_->snapshot();
  ASSERT_EQ(new_catalog->items.size(), old_catalog->items.size());
  for (const auto& [id, item] : new_catalog->items) {
    if (id == top) {
      EXPECT_NE(item.get(), old_catalog->Find(id));
      EXPECT_FALSE(item->in_stock());
    } else {
      EXPECT_EQ(item.get(), old_catalog->Find(id)) << id;
    }
  }
  // Until the change is prepared, requests keep the catalog as it was.
  EXPECT_EQ(Recommend(user, 5, "g1").items(0).item_id(), top);
  prepare_serving_();  // as the server's background work does after a refresh
  const RecommendResponse after = Recommend(user, 5, "g1");
  for (const auto& item : after.items()) EXPECT_NE(item.item_id(), top);
  // Nothing new: no new snapshot.
  changed = catalog_->Refresh();
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
}

TEST_F(RulesServerTest, UnknownRuleSetIsRejectedAndABadFileLeavesTheRulesAlone) {
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(0));
  request.set_k(5);
  request.set_rule_set("black-friday");
  grpc::ClientContext context;
  RecommendResponse response;
  grpc::Status status = stub_->Recommend(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("rule_set:", 0), 0u) << status.error_message();

  auto bad = rules::ParseRules("rules.textproto", "rule_sets { name: \"shop\" \n pins { slot: 2 } }");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("rules.textproto:2:", 0), 0u) << bad.status();
  EXPECT_EQ(Recommend(TestModel::UserId(0), 20, "shop").items(0).item_id(), "extra-1");
}

// No request prepares rules: the warm-up prepared the version, an admin
// write prepared its change, and a rules reload prepared the serving version
// before the new rules applied (a request naming the new set finds it ready).
TEST_F(RulesServerTest, RequestsNeverPrepareRulesThemselves) {
  const std::string user = TestModel::UserId(2);
  ASSERT_EQ(Recommend(user, 10, "g1").items_size(), 10);
  affinity::v1::UpsertItemsRequest upsert;
  CatalogItem update = MakeItem(1);
  update.set_in_stock(false);
  *upsert.add_items() = update;
  affinity::v1::UpsertItemsResponse upserted;
  grpc::ClientContext context;
  ASSERT_TRUE(admin_stub_->UpsertItems(&context, upsert, &upserted).ok());
  ASSERT_EQ(Recommend(user, 10, "g1").items_size(), 10);

  auto reloaded = rules::ParseRules("rules.textproto", R"pb(
    rule_sets { name: "cheap" filters { attribute: "price" max: 50 } }
  )pb");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  engine_->SetRules(*reloaded);
  const RecommendResponse cheap = Recommend(user, 10, "cheap");
  ASSERT_EQ(cheap.items_size(), 10);
  for (const auto& item : cheap.items()) EXPECT_LE(IndexOf(item.item_id()), 50) << item.item_id();
  EXPECT_EQ(engine_->prepared_on_request(), 0u);

  // A version the engine never saw is prepared by the request that needs it.
  ASSERT_EQ(engine_->ForRequest(*manager_->routing()->control().model),
            engine_->Prepare(*manager_->routing()->control().model));
  EXPECT_EQ(engine_->prepared_on_request(), 0u);
  engine_->Retain({});
  ASSERT_EQ(Recommend(user, 10, "cheap").items_size(), 10);
  EXPECT_EQ(engine_->prepared_on_request(), 1u);
}

// Request-time filters narrow the rule set: the scan, the pins and the
// fallback all respect both.
TEST_F(RulesServerTest, RequestFiltersNarrowTheRuleSet) {
  affinity::v1::Filter cheap;
  cheap.set_attribute("price");
  cheap.set_max(150);
  auto filters = rules::CompileFilters({cheap});
  ASSERT_TRUE(filters.ok()) << filters.status();
  const ModelManager::Route route = manager_->ControlRoute();
  ASSERT_NE(route.model, nullptr);
  const LoadedModel& model = *route.model;
  auto prepared = engine_->Prepare(model);
  const uint32_t u = 8;
  const ExclusionSet excluded(model_.seen[u]);
  const absl::flat_hash_set<std::string> no_ids;
  std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
  for (bool with_query : {true, false}) {
    rules::RuleRequest request;
    request.prepared = prepared;
    request.set = prepared->Find("shop");
    request.k = 25;
    request.excluded = &excluded;
    request.excluded_ids = &no_ids;
    request.popular = &model.reader->popular_items();
    request.request_filters = &*filters;
    if (with_query) {
      request.score = [&](ScoringQuery q) {
        q.vector = x;
        q.excluded = &excluded;
        return model.scorer->TopK(q);
      };
    }
    const rules::RuleOutcome outcome = rules::RunRules(request);
    ASSERT_EQ(outcome.items.size(), 25u) << with_query;
    for (const rules::RankedItem& item : outcome.items) {
      // extra-1 (price 1000) fails the request filter: not pinned.
      ASSERT_TRUE(item.index.has_value()) << item.item_id;
      const int index = static_cast<int>(*item.index);
      EXPECT_LE(index, 150) << item.item_id;
      EXPECT_TRUE(index % 7 != 0 && index % 5 != 0) << item.item_id;
    }
    EXPECT_EQ(outcome.items[2].item_id, "item-11");
  }
  affinity::v1::Filter bad;
  bad.set_attribute("price");
  bad.add_any_of("x");
  auto rejected = rules::CompileFilters({cheap, bad});
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().message().rfind("filters[1].any_of:", 0), 0u) << rejected.status();
}

// What the scorer is asked for in RunShop: the query's k, every allowed
// item (the reference: diversity over the whole ranking), or at most what
// the first call asked for.
enum class Fetch { kAsked, kWhole, kFirstOnly };

// Runs "shop" (diversity, pins, no boosts) with the model's scorer for the
// user vector `x`, recording each scoring call's k in `asked`; wired as the
// service wires it unless `prefix_stable` says otherwise.
rules::RuleOutcome RunShop(const LoadedModel& model,
                           const std::shared_ptr<const rules::PreparedRules>& prepared,
                           const std::vector<float>& x, const ExclusionSet& excluded, size_t k,
                           Fetch fetch, std::vector<size_t>* asked,
                           std::optional<bool> prefix_stable = std::nullopt) {
  const absl::flat_hash_set<std::string> no_ids;
  rules::RuleRequest request;
  request.prepared = prepared;
  request.set = prepared->Find("shop");
  request.k = k;
  request.excluded = &excluded;
  request.excluded_ids = &no_ids;
  request.popular = &model.reader->popular_items();
  request.score_is_prefix_stable =
      prefix_stable.value_or(model.scorer->ScansEveryAllowedRow());
  request.score = [&](ScoringQuery q) {
    asked->push_back(q.k);
    if (fetch == Fetch::kWhole) q.k = request.set->allowed->count();
    if (fetch == Fetch::kFirstOnly) q.k = std::min(q.k, asked->front());
    q.vector = x;
    q.excluded = &excluded;
    return model.scorer->TopK(q);
  };
  return rules::RunRules(request);
}

void ExpectSameAnswer(const rules::RuleOutcome& got, const rules::RuleOutcome& want,
                      const std::string& what) {
  ASSERT_EQ(got.items.size(), want.items.size()) << what;
  for (size_t i = 0; i < got.items.size(); ++i) {
    EXPECT_EQ(got.items[i].item_id, want.items[i].item_id) << what << " rank " << i;
    EXPECT_EQ(got.items[i].score, want.items[i].score) << what << " rank " << i;
  }
  EXPECT_EQ(got.counts.diversity_dropped, want.counts.diversity_dropped) << what;
}

// The user and k of the answer the first fetch cannot fill (see below).
constexpr uint32_t kRefetchUser = 5;
constexpr size_t kRefetchK = 15;

// The b3 items (index % 4 == 3) among user u's best allowed "shop" items,
// down to the 4k + 20th other unseen one: hidden, they leave the first
// fetch too few b3 items for diversity to fill k.
std::vector<uint32_t> BestB3Items(const LoadedModel& model, const rules::PreparedRules& prepared,
                                  const TestModel& test_model, uint32_t u, size_t k) {
  const std::vector<uint32_t>& seen = test_model.seen[u];
  const std::vector<float> x(test_model.user(u), test_model.user(u) + test_model.dims);
  ScoringQuery all;
  all.vector = x;
  all.allowed = prepared.Find("shop")->allowed.get();
  all.k = all.allowed->count();
  std::vector<uint32_t> b3;
  size_t others = 0;
  for (const ScoredIndex& s : model.scorer->TopK(all).items) {
    if (std::binary_search(seen.begin(), seen.end(), s.index)) continue;
    if (others >= 4 * k + 20) break;
    if (s.index % 4 == 3) {
      b3.push_back(s.index);
    } else {
      ++others;
    }
  }
  return b3;
}

// Diversity without boosts asks the exact scorer for max(4k, k + pins)
// candidates first and for the full over-fetch only when the diversity
// stage cannot fill k from them; either way the answer is the one diversity
// gives over the whole ranking. A scorer whose search widens with k is
// asked for the full over-fetch at once.
TEST_F(RulesServerTest, DiversityAsksForFewCandidatesFirstWithTheSameAnswer) {
  const LoadedModel& model = *manager_->ControlRoute().model;
  ASSERT_TRUE(model.scorer->ScansEveryAllowedRow());
  const auto prepared = engine_->Prepare(model);
  const size_t allowed = prepared->Find("shop")->allowed->count();
  {
    const ExclusionSet excluded(model_.seen[2]);
    const std::vector<float> x(model_.user(2), model_.user(2) + model_.dims);
    std::vector<size_t> asked;
    RunShop(model, prepared, x, excluded, 10, Fetch::kAsked, &asked, /*prefix_stable=*/false);
    EXPECT_EQ(asked, std::vector<size_t>{std::min<size_t>(210, allowed)});
  }
  int refetched = 0;
  for (uint32_t u = 0; u < 40; ++u) {
    const ExclusionSet excluded(model_.seen[u]);
    const std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
    for (size_t k : {5u, 10u, 25u}) {
      const std::string what = "user " + std::to_string(u) + " k " + std::to_string(k);
      std::vector<size_t> asked, asked_whole;
      const rules::RuleOutcome got =
          RunShop(model, prepared, x, excluded, k, Fetch::kAsked, &asked);
      const rules::RuleOutcome want =
          RunShop(model, prepared, x, excluded, k, Fetch::kWhole, &asked_whole);
      ExpectSameAnswer(got, want, what);
      ASSERT_GE(asked.size(), 1u) << what;
      EXPECT_EQ(asked[0], 4 * k) << what;
      if (asked.size() == 2) {
        EXPECT_EQ(asked[1], std::min(k + 200, allowed)) << what;
        ++refetched;
      }
      EXPECT_LE(asked.size(), 2u) << what;
      EXPECT_EQ(got.counts.refetches, asked.size() - 1) << what;
    }
  }
  // Four brands at most 3 each in the first 10 slots: 4k candidates nearly
  // always hold enough of each.
  EXPECT_LE(refetched, 6);

  // A user whose 80 best allowed items (seen ones and b3 left out) hold no
  // b3 item, asking for 15: the first 60 fill only 9 slots (the tenth,
  // inside the cap's window, needs a b3 item), the full over-fetch reaches
  // the b3 items. The three pins then push the answer's last items out, so
  // k is large enough for the difference to show.
  const uint32_t u = kRefetchUser;
  const size_t k = kRefetchK;
  const std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
  std::vector<uint32_t> hidden(model_.seen[u].begin(), model_.seen[u].end());
  for (uint32_t index : BestB3Items(model, *prepared, model_, u, k)) hidden.push_back(index);
  const ExclusionSet excluded(hidden);
  std::vector<size_t> asked, asked_whole;
  const rules::RuleOutcome got = RunShop(model, prepared, x, excluded, k, Fetch::kAsked, &asked);
  const rules::RuleOutcome want =
      RunShop(model, prepared, x, excluded, k, Fetch::kWhole, &asked_whole);
  ExpectSameAnswer(got, want, "b3 hidden");
  EXPECT_EQ(asked, (std::vector<size_t>{4 * k, std::min(k + 200, allowed)}));
  EXPECT_EQ(got.counts.refetches, 1u);
  // Without the second call the answer would differ.
  std::vector<size_t> asked_first;
  const rules::RuleOutcome first_only =
      RunShop(model, prepared, x, excluded, k, Fetch::kFirstOnly, &asked_first);
  ASSERT_EQ(first_only.items.size(), got.items.size());
  bool differs = false;
  for (size_t i = 0; i < got.items.size(); ++i) {
    differs |= got.items[i].item_id != first_only.items[i].item_id;
  }
  EXPECT_TRUE(differs);
}

// The refetch on the serving path: a Recommend call whose first fetch
// cannot fill k (the user's best b3 items given as exclude_item_ids) is
// answered as the pipeline answers it and counted once in the rendered
// affinity_rule_refetches_total; a call the first fetch fills adds nothing.
TEST_F(RulesServerTest, ARefetchIsCountedInTheRenderedMetrics) {
  const LoadedModel& model = *manager_->ControlRoute().model;
  const auto prepared = engine_->Prepare(model);
  auto refetches = [&] {
    return CounterValue(rule_metrics_.Render(), "affinity_rule_refetches_total",
                        {{"rule_set", "shop"}});
  };

  // User 1 at k = 10: one fetch in process, so none counted when served.
  {
    const ExclusionSet excluded(model_.seen[1]);
    const std::vector<float> x(model_.user(1), model_.user(1) + model_.dims);
    std::vector<size_t> asked;
    RunShop(model, prepared, x, excluded, 10, Fetch::kAsked, &asked);
    ASSERT_EQ(asked.size(), 1u);
    Recommend(TestModel::UserId(1), 10, "shop");
    EXPECT_EQ(refetches(), 0u);
  }

  const uint32_t u = kRefetchUser;
  const std::vector<uint32_t> b3 = BestB3Items(model, *prepared, model_, u, kRefetchK);
  ASSERT_FALSE(b3.empty());
  std::vector<uint32_t> hidden(model_.seen[u].begin(), model_.seen[u].end());
  hidden.insert(hidden.end(), b3.begin(), b3.end());
  const ExclusionSet excluded(hidden);
  const std::vector<float> x(model_.user(u), model_.user(u) + model_.dims);
  std::vector<size_t> asked;
  const rules::RuleOutcome want =
      RunShop(model, prepared, x, excluded, kRefetchK, Fetch::kAsked, &asked);
  ASSERT_EQ(asked.size(), 2u);

  RecommendRequest request;
  request.set_user_id(TestModel::UserId(u));
  request.set_k(static_cast<int>(kRefetchK));
  request.set_rule_set("shop");
  for (uint32_t index : b3) request.add_exclude_item_ids(TestModel::ItemId(index));
  grpc::ClientContext context;
  RecommendResponse got;
  ASSERT_TRUE(stub_->Recommend(&context, request, &got).ok());
  ASSERT_EQ(static_cast<size_t>(got.items_size()), want.items.size());
  for (size_t i = 0; i < want.items.size(); ++i) {
    EXPECT_EQ(got.items(static_cast<int>(i)).item_id(), want.items[i].item_id) << "rank " << i;
  }
  EXPECT_EQ(refetches(), 1u);
}

TEST_F(RulesServerTest, RequestFiltersOverGrpcNarrowTheAnswer) {
  RecommendRequest request;
  request.set_user_id(TestModel::UserId(8));
  request.set_k(20);
  request.set_rule_set("g1");  // category g1 (index % 5 == 1), in stock
  affinity::v1::Filter* cheap = request.add_filters();
  cheap->set_attribute("price");
  cheap->set_max(150);
  grpc::ClientContext context;
  RecommendResponse response;
  ASSERT_TRUE(stub_->Recommend(&context, request, &response).ok());
  // 150 / 5 = 30 g1 items up to price 150, minus out-of-stock and seen
  // ones: still at least 20 qualify, so k is met.
  ASSERT_EQ(response.items_size(), 20);
  for (const auto& item : response.items()) {
    const int index = IndexOf(item.item_id());
    ASSERT_GE(index, 0) << item.item_id();
    EXPECT_LE(index, 150) << item.item_id();
    EXPECT_EQ(index % 5, 1) << item.item_id();
    EXPECT_NE(index % 7, 0) << item.item_id();
  }

  affinity::v1::SimilarItemsRequest similar;
  similar.set_item_id("item-1");
  similar.set_k(5);
  affinity::v1::Filter* brand = similar.add_filters();
  brand->set_attribute("brand");
  brand->add_any_of("b2");
  grpc::ClientContext similar_context;
  RecommendResponse similar_response;
  ASSERT_TRUE(stub_->SimilarItems(&similar_context, similar, &similar_response).ok());
  ASSERT_EQ(similar_response.items_size(), 5);
  for (const auto& item : similar_response.items()) {
    EXPECT_EQ(IndexOf(item.item_id()) % 4, 2) << item.item_id();
  }

  affinity::v1::Filter* bad = request.add_filters();
  bad->set_attribute("price");
  bad->add_any_of("x");
  grpc::ClientContext bad_context;
  grpc::Status status = stub_->Recommend(&bad_context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("filters[1].any_of:", 0), 0u) << status.error_message();
}

// Admin writes update the prepared rules incrementally; the result equals
// preparing from scratch.
TEST_F(RulesServerTest, IncrementalCatalogUpdatesMatchAFullPrepare) {
  const ModelManager::Route route = manager_->ControlRoute();
  const LoadedModel& model = *route.model;
  auto before = engine_->Prepare(model);
  CatalogItem out_of_stock = MakeItem(12);
  out_of_stock.set_in_stock(false);
  CatalogItem moved = MakeItem(13);
  moved.set_categories(0, "g0");
  CatalogItem back = MakeItem(16);
  CatalogItem extra;
  extra.set_item_id("extra-9");
  extra.add_categories("g1");
  extra.set_in_stock(true);
  ASSERT_TRUE(catalog_->Upsert({out_of_stock, moved, back, extra}).ok());
  ASSERT_TRUE(catalog_->Delete({TestModel::ItemId(21), "extra-2"}).ok());
  engine_->Prepare(model);  // the next snapshot's base is this one
  auto snapshot = catalog_->snapshot();
  ASSERT_EQ(snapshot->base_generation, snapshot->generation - 1);
  ASSERT_TRUE(catalog_->Upsert({MakeItem(15)}).ok());
  auto incremental = engine_->Prepare(model);
  auto full = rules::PrepareRules(engine_->rules(), catalog_->snapshot(), model);
  ASSERT_EQ(incremental->sets.size(), full->sets.size());
  for (const auto& [name, set] : full->sets) {
    const rules::PreparedRuleSet& got = incremental->sets.at(name);
    ASSERT_EQ(got.allowed == nullptr, set.allowed == nullptr) << name;
    if (set.allowed != nullptr) {
      EXPECT_EQ(got.allowed->Indices(), set.allowed->Indices()) << name;
      EXPECT_EQ(got.allowed->count(), set.allowed->count()) << name;
    }
    std::vector<std::string> got_only, want_only;
    for (const auto* item : got.catalog_only) got_only.push_back(item->item_id());
    for (const auto* item : set.catalog_only) want_only.push_back(item->item_id());
    EXPECT_EQ(got_only, want_only) << name;
  }
  for (size_t i = 0; i < full->items.size(); ++i) {
    EXPECT_EQ(incremental->items[i], full->items[i]) << i;
  }
  const rules::PreparedRuleSet& shop = *incremental->Find("shop");
  EXPECT_FALSE(shop.allowed->Contains(12));  // out of stock
  EXPECT_FALSE(shop.allowed->Contains(13));  // now g0
  EXPECT_FALSE(shop.allowed->Contains(21));  // no longer in the catalog
  EXPECT_TRUE(shop.allowed->Contains(16));
  EXPECT_NE(before, incremental);
}

// The same server with --scorer=int8, every item a candidate (so its
// answers are exact): a rule set keeping a minority of the items gets its
// own int8 copy when prepared, and is served from it.
class RulesServerInt8Test : public RulesServerTest {
 protected:
  ModelManagerOptions ManagerOptions() const override {
    ModelManagerOptions options;
    options.scorer.kind = ScorerKind::kInt8;
    options.scorer.int8_candidate_factor = 1000;
    return options;
  }
};

uint64_t ItemsScored(const ServerMetrics& metrics) {
  return CounterValue(metrics.Render(), "affinity_items_scored_total");
}

TEST_F(RulesServerInt8Test, ARuleSetKeepingFewItemsIsServedFromItsOwnCopy) {
  const ModelManager::Route route = manager_->ControlRoute();
  const LoadedModel& model = *route.model;
  const auto prepared = engine_->Prepare(model);
  const rules::PreparedRuleSet& g1 = *prepared->Find("g1");      // about 17% of the items
  ASSERT_NE(g1.allowed, nullptr);
  EXPECT_NE(g1.allowed_scan, nullptr);
  EXPECT_EQ(prepared->Find("shop")->allowed_scan, nullptr);     // most items: the full pass
  EXPECT_EQ(prepared->Find("tiny")->allowed_scan, nullptr);     // 5 items: the gather scan
  const uint64_t g1_rows = g1.allowed->count();

  // The rule set, then the same filters as request filters on the default
  // set (whose blocklist-only bitmap has no copy): the same answers, from
  // g1's rows alone the first time and from every row the second.
  for (const std::string& user :
       {TestModel::UserId(1), TestModel::UserId(7), TestModel::UserId(20)}) {
    const uint64_t before = ItemsScored(metrics_);
    const RecommendResponse from_copy = Recommend(user, 8, "g1");
    const uint64_t after_copy = ItemsScored(metrics_);
    RecommendRequest request;
    request.set_user_id(user);
    request.set_k(8);
    affinity::v1::Filter* category = request.add_filters();
    category->set_attribute("category");
    category->add_any_of("g1");
    affinity::v1::Filter* stock = request.add_filters();
    stock->set_attribute("in_stock");
    stock->set_equals(true);
    grpc::ClientContext context;
    RecommendResponse full;
    ASSERT_TRUE(stub_->Recommend(&context, request, &full).ok());
    EXPECT_EQ(after_copy - before, g1_rows) << user;
    EXPECT_EQ(ItemsScored(metrics_) - after_copy, model.items->rows()) << user;
    ASSERT_EQ(from_copy.items_size(), 8) << user;
    ASSERT_EQ(full.items_size(), from_copy.items_size()) << user;
    for (int i = 0; i < full.items_size(); ++i) {
      EXPECT_EQ(from_copy.items(i).item_id(), full.items(i).item_id()) << user << " rank " << i;
      EXPECT_EQ(from_copy.items(i).score(), full.items(i).score()) << user << " rank " << i;
    }
  }

  // A catalog change that flips a g1 item rebuilds the copy; one that
  // flips none keeps it.
  CatalogItem gone = MakeItem(26);  // g1, in stock
  gone.set_in_stock(false);
  ASSERT_TRUE(catalog_->Upsert({gone}).ok());
  const auto flipped = engine_->Prepare(model);
  EXPECT_NE(flipped->Find("g1")->allowed_scan, nullptr);
  EXPECT_NE(flipped->Find("g1")->allowed_scan, g1.allowed_scan);
  EXPECT_EQ(flipped->Find("g1")->allowed->count(), g1_rows - 1);
  CatalogItem priced = MakeItem(22);  // g2: no g1 bit changes
  priced.set_price(500);
  ASSERT_TRUE(catalog_->Upsert({priced}).ok());
  const auto unchanged = engine_->Prepare(model);
  EXPECT_EQ(unchanged->Find("g1")->allowed_scan, flipped->Find("g1")->allowed_scan);
}

// A budget that holds g1's copy (at most kBudgetRows rows) and not g12's (g1
// and g2, about twice as many rows).
class RulesServerInt8BudgetTest : public RulesServerInt8Test {
 protected:
  static constexpr size_t kBudgetRows = 64;
  ModelManagerOptions ManagerOptions() const override {
    ModelManagerOptions options = RulesServerInt8Test::ManagerOptions();
    options.scorer.int8_allowed_copy_bytes =
        static_cast<int64_t>(Int8AllowedScan::BytesFor(kBudgetRows, kDims));
    return options;
  }
  std::string Rules() const override {
    return std::string(kRules) + R"pb(
      rule_sets {
        name: "g12"
        filters { attribute: "category" any_of: [ "g1", "g2" ] }
        filters { attribute: "in_stock" equals: true }
      })pb";
  }
};

TEST_F(RulesServerInt8BudgetTest, TheSmallestRuleSetsGetCopiesWithinTheBudget) {
  const ModelManager::Route route = manager_->ControlRoute();
  const LoadedModel& model = *route.model;
  ASSERT_EQ(model.items->dims(), kDims);
  const auto prepared = engine_->Prepare(model);
  const rules::PreparedRuleSet& g1 = *prepared->Find("g1");
  const rules::PreparedRuleSet& g12 = *prepared->Find("g12");
  ASSERT_NE(g1.allowed, nullptr);
  ASSERT_NE(g12.allowed, nullptr);
  ASSERT_LE(g1.allowed->count(), kBudgetRows);
  ASSERT_GT(g12.allowed->count(), kBudgetRows);
  // g12 qualifies for a copy: only the budget keeps it from having one.
  ASSERT_NE(model.scorer->PrepareAllowed(*g12.allowed, std::numeric_limits<size_t>::max()),
            nullptr);
  ASSERT_NE(g1.allowed_scan, nullptr);
  EXPECT_EQ(g12.allowed_scan, nullptr);
  EXPECT_LE(g1.allowed_scan->bytes(), model.scorer->AllowedScanBudget());
  // What the prepared rules report holding (logged at each load): g1's copy.
  EXPECT_EQ(prepared->ScanCopyBytes(), Int8AllowedScan::BytesFor(g1.allowed->count(), kDims));

  // Served: g1 from its copy, g12 from every row.
  uint64_t before = ItemsScored(metrics_);
  EXPECT_EQ(Recommend(TestModel::UserId(4), 8, "g1").items_size(), 8);
  EXPECT_EQ(ItemsScored(metrics_) - before, g1.allowed->count());
  before = ItemsScored(metrics_);
  EXPECT_EQ(Recommend(TestModel::UserId(4), 8, "g12").items_size(), 8);
  EXPECT_EQ(ItemsScored(metrics_) - before, model.items->rows());

  // A change flipping g1 and g12 bits remakes g1's copy within the budget
  // and still leaves g12 without one.
  CatalogItem gone = MakeItem(26);  // g1, in stock
  gone.set_in_stock(false);
  ASSERT_TRUE(catalog_->Upsert({gone}).ok());
  const auto flipped = engine_->Prepare(model);
  EXPECT_EQ(flipped->Find("g12")->allowed->count(), g12.allowed->count() - 1);
  ASSERT_NE(flipped->Find("g1")->allowed_scan, nullptr);
  EXPECT_NE(flipped->Find("g1")->allowed_scan, g1.allowed_scan);
  EXPECT_EQ(flipped->Find("g12")->allowed_scan, nullptr);
}

TEST_F(RulesServerTest, SimilarItemsApplyTheRuleSet) {
  affinity::v1::SimilarItemsRequest request;
  request.set_item_id(TestModel::ItemId(21));
  request.set_k(10);
  request.set_rule_set("g1");
  grpc::ClientContext context;
  RecommendResponse response;
  ASSERT_TRUE(stub_->SimilarItems(&context, request, &response).ok());
  ASSERT_EQ(response.items_size(), 10);
  for (const auto& item : response.items()) {
    const int index = IndexOf(item.item_id());
    EXPECT_NE(index, 21);
    EXPECT_EQ(index % 5, 1) << item.item_id();
    EXPECT_NE(index % 7, 0) << item.item_id();
  }
}

}  // namespace
}  // namespace affinity::server
