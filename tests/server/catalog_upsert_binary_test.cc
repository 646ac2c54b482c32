// affinity-server's CatalogAdmin.UpsertItems with update masks, through the
// binary's admin port: a stock-only update keeps the item's title,
// categories and price (in the store and in what the filters see), items
// without a mask are still replaced whole, per-item masks create new items
// in stock, and a bad mask path is INVALID_ARGUMENT naming it with nothing
// of the call written.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using affinity::v1::UpsertItemsRequest;
using affinity::v1::UpsertItemsResponse;
using testing::TestModel;

CatalogItem Item(int i) {
  CatalogItem item;
  item.set_item_id(TestModel::ItemId(i));
  item.set_title("Title " + std::to_string(i));
  item.add_categories("g" + std::to_string(i % 5));
  item.set_price(i + 1);
  item.set_in_stock(true);
  return item;
}

affinity::v1::Filter Equals(const std::string& attribute, bool value) {
  affinity::v1::Filter filter;
  filter.set_attribute(attribute);
  filter.set_equals(value);
  return filter;
}

class CatalogUpsertBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::TestCaseDir();
    db_ = dir + "/db";
    log_ = dir + "/server.log";
    const TestModel model = testing::MakeImplicitModel(5, 20, 100, 8, 10);
    {
      auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE(testing::Publish(store->get(), model).ok());
      auto catalog = storage::CatalogStore::Open(db_, storage::CatalogStore::Mode::kReadWrite);
      ASSERT_TRUE(catalog.ok()) << catalog.status();
      std::vector<CatalogItem> items;
      for (int i = 0; i < 100; ++i) items.push_back(Item(i));
      ASSERT_TRUE((*catalog)->Upsert(items).ok());
    }
    pid_ = testing::Spawn({testing::kServerBinary, "--db=" + db_, "--listen=127.0.0.1:0",
                           "--metrics_listen=", "--admin_listen=127.0.0.1:0"},
                          log_);
    // Logged once version 1 serves (after "admin services on"): a call made
    // before it would find no model yet.
    const std::string text = testing::WaitForLog(log_, "routing (rollout revision");
    const std::optional<int> port = testing::LoggedPort(text, "started: grpc");
    const std::optional<int> admin_port = testing::LoggedPort(text, "admin services on");
    ASSERT_TRUE(port.has_value() && admin_port.has_value()) << text;
    stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));
    admin_ = affinity::v1::CatalogAdmin::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*admin_port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    admin_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(testing::WaitExit(pid_), 0) << testing::ReadFile(log_);
    }
  }

  grpc::Status Upsert(const UpsertItemsRequest& request, UpsertItemsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return admin_->UpsertItems(&context, request, response);
  }

  // User 1's top 10 item ids passing `filters`.
  std::vector<std::string> Recommend(const std::vector<affinity::v1::Filter>& filters) {
    affinity::v1::RecommendRequest request;
    request.set_user_id(TestModel::UserId(1));
    request.set_k(10);
    for (const affinity::v1::Filter& f : filters) *request.add_filters() = f;
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    const grpc::Status status = stub_->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const auto& item : response.items()) ids.push_back(item.item_id());
    return ids;
  }

  // The item as stored in DIR/catalog (read by a follower of its own).
  std::optional<CatalogItem> Stored(const std::string& id) {
    auto reader = storage::CatalogStore::Open(db_, storage::CatalogStore::Mode::kFollower);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return std::nullopt;
    auto item = (*reader)->Get(id);
    if (!item.ok()) return std::nullopt;
    return *item;
  }

  std::string db_;
  std::string log_;
  pid_t pid_ = -1;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> admin_;
};

TEST_F(CatalogUpsertBinaryTest, AStockOnlyUpdateKeepsEveryOtherField) {
  const std::vector<std::string> before = Recommend({Equals("in_stock", true)});
  ASSERT_EQ(before.size(), 10u);
  const std::string top = before[0];
  const int index = std::stoi(top.substr(5));

  // The help example `affinity admin upsert --item_json='{"itemId":"...","inStock":false}'`,
  // as items with a request-wide mask.
  UpsertItemsRequest request;
  request.add_items()->set_item_id(top);
  request.mutable_update_mask()->add_paths("in_stock");
  UpsertItemsResponse response;
  const grpc::Status status = Upsert(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.upserted(), 1);
  EXPECT_EQ(response.updated(), 1);
  EXPECT_EQ(response.added() + response.unchanged(), 0);

  const std::optional<CatalogItem> stored = Stored(top);
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(stored->in_stock());
  EXPECT_EQ(stored->title(), "Title " + std::to_string(index));
  ASSERT_EQ(stored->categories_size(), 1);
  EXPECT_EQ(stored->categories(0), "g" + std::to_string(index % 5));
  EXPECT_DOUBLE_EQ(stored->price(), index + 1);

  // Served: out of the in-stock answers at once, and still in its category
  // and price range.
  const std::vector<std::string> after = Recommend({Equals("in_stock", true)});
  EXPECT_EQ(std::count(after.begin(), after.end(), top), 0);
  affinity::v1::Filter category;
  category.set_attribute("category");
  category.add_any_of("g" + std::to_string(index % 5));
  affinity::v1::Filter price;
  price.set_attribute("price");
  price.set_min(index + 1);
  price.set_max(index + 1);
  EXPECT_EQ(Recommend({Equals("in_stock", false), category, price}),
            std::vector<std::string>{top});
}

TEST_F(CatalogUpsertBinaryTest, ItemsWithoutAMaskAreStillReplacedWhole) {
  UpsertItemsRequest request;
  CatalogItem* item = request.add_items();
  item->set_item_id(TestModel::ItemId(7));
  item->set_in_stock(true);
  UpsertItemsResponse response;
  const grpc::Status status = Upsert(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.updated(), 1);
  const std::optional<CatalogItem> stored = Stored(TestModel::ItemId(7));
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->in_stock());
  EXPECT_EQ(stored->title(), "");
  EXPECT_EQ(stored->categories_size(), 0);
  EXPECT_FALSE(stored->has_price());
}

TEST_F(CatalogUpsertBinaryTest, PerItemMasksAndABadPathWritesNothing) {
  UpsertItemsRequest request;
  affinity::v1::ItemUpdate* price = request.add_updates();
  price->mutable_item()->set_item_id(TestModel::ItemId(3));
  price->mutable_item()->set_price(99);
  price->mutable_item()->set_title("ignored: not in the mask");
  price->mutable_update_mask()->add_paths("price");
  affinity::v1::ItemUpdate* added = request.add_updates();
  added->mutable_item()->set_item_id("new-1");
  added->mutable_item()->set_title("New");
  added->mutable_update_mask()->add_paths("title");
  UpsertItemsResponse response;
  grpc::Status status = Upsert(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.upserted(), 2);
  EXPECT_EQ(response.added(), 1);
  EXPECT_EQ(response.updated(), 1);

  std::optional<CatalogItem> stored = Stored(TestModel::ItemId(3));
  ASSERT_TRUE(stored.has_value());
  EXPECT_DOUBLE_EQ(stored->price(), 99);
  EXPECT_EQ(stored->title(), "Title 3");
  EXPECT_TRUE(stored->in_stock());
  stored = Stored("new-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->title(), "New");
  EXPECT_TRUE(stored->in_stock());  // a new item starts in stock
  EXPECT_FALSE(stored->has_price());

  // A bad path anywhere in the call: refused, naming it; nothing written.
  price->mutable_item()->set_price(5);
  added->mutable_update_mask()->set_paths(0, "stock");
  status = Upsert(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind(
                "updates[1].update_mask.paths[0]: unknown field 'stock', expected one of title, ",
                0),
            0u)
      << status.error_message();
  EXPECT_DOUBLE_EQ(Stored(TestModel::ItemId(3))->price(), 99);

  added->mutable_update_mask()->set_paths(0, "item_id");
  status = Upsert(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "updates[1].update_mask.paths[0]: 'item_id' names the item and cannot be updated, "
            "expected other fields");
  EXPECT_DOUBLE_EQ(Stored(TestModel::ItemId(3))->price(), 99);
}

}  // namespace
}  // namespace affinity::server
