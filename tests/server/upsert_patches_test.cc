// UpsertItems requests turned into catalog patches: without a mask an item
// is written whole, with one only the named fields; bad masks are refused
// naming the path. And CatalogView::Patch on an in-memory view: a masked
// write keeps the fields it does not name, starts new items in stock, and
// publishes a snapshot only when something changed.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/rpc/admin_validation.h"
#include "server/rpc/upsert_patches.h"
#include "server/rules/catalog_view.h"
#include "storage/catalog_store.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using affinity::v1::UpsertItemsRequest;

constexpr char kExpected[] =
    "expected one of title, categories, brand, price, in_stock, created_at_unix, region, tags, "
    "or '*' alone for the whole item";

CatalogItem Item(const std::string& id) {
  CatalogItem item;
  item.set_item_id(id);
  return item;
}

std::vector<std::string> Paths(const storage::CatalogPatch& patch) {
  return {patch.fields.paths().begin(), patch.fields.paths().end()};
}

void ExpectRefused(const UpsertItemsRequest& request, const std::string& message) {
  absl::StatusOr<std::vector<storage::CatalogPatch>> patches = UpsertPatches(request);
  ASSERT_FALSE(patches.ok()) << request.DebugString();
  EXPECT_TRUE(absl::IsInvalidArgument(patches.status())) << patches.status();
  EXPECT_EQ(patches.status().message(), message);
}

TEST(UpsertPatchesTest, ItemsWithoutAMaskAreWrittenWhole) {
  UpsertItemsRequest request;
  *request.add_items() = Item("a");
  request.mutable_items(0)->set_title("A");
  *request.add_items() = Item("b");
  auto patches = UpsertPatches(request);
  ASSERT_TRUE(patches.ok()) << patches.status();
  ASSERT_EQ(patches->size(), 2u);
  const std::vector<std::string> all = {"title",           "categories", "brand", "price",
                                        "in_stock",        "created_at_unix", "region", "tags"};
  EXPECT_EQ(Paths((*patches)[0]), all);
  EXPECT_EQ((*patches)[0].item.title(), "A");
  EXPECT_EQ((*patches)[1].item.item_id(), "b");
  // "*" is the whole item too.
  request.mutable_update_mask()->add_paths("*");
  patches = UpsertPatches(request);
  ASSERT_TRUE(patches.ok()) << patches.status();
  EXPECT_EQ(Paths((*patches)[1]), all);
}

TEST(UpsertPatchesTest, AMaskNamesTheFieldsOfEveryItem) {
  UpsertItemsRequest request;
  *request.add_items() = Item("a");
  *request.add_items() = Item("b");
  request.mutable_update_mask()->add_paths("in_stock");
  request.mutable_update_mask()->add_paths("price");
  auto patches = UpsertPatches(request);
  ASSERT_TRUE(patches.ok()) << patches.status();
  ASSERT_EQ(patches->size(), 2u);
  EXPECT_EQ(Paths((*patches)[0]), (std::vector<std::string>{"in_stock", "price"}));
  EXPECT_EQ(Paths((*patches)[1]), (std::vector<std::string>{"in_stock", "price"}));
}

TEST(UpsertPatchesTest, UpdatesCarryTheirOwnMasks) {
  UpsertItemsRequest request;
  auto* stock = request.add_updates();
  *stock->mutable_item() = Item("a");
  stock->mutable_update_mask()->add_paths("in_stock");
  auto* whole = request.add_updates();
  *whole->mutable_item() = Item("b");
  whole->mutable_update_mask()->add_paths("*");
  auto patches = UpsertPatches(request);
  ASSERT_TRUE(patches.ok()) << patches.status();
  ASSERT_EQ(patches->size(), 2u);
  EXPECT_EQ(Paths((*patches)[0]), std::vector<std::string>{"in_stock"});
  EXPECT_EQ(Paths((*patches)[1]).size(), 8u);
}

TEST(UpsertPatchesTest, BadMasksAreRefusedNamingThePath) {
  UpsertItemsRequest request;
  *request.add_items() = Item("a");
  request.mutable_update_mask()->add_paths("in_stock");
  request.mutable_update_mask()->add_paths("stock");
  ExpectRefused(request, std::string("update_mask.paths[1]: unknown field 'stock', ") + kExpected);
  request.mutable_update_mask()->set_paths(1, "title.text");
  ExpectRefused(request,
                std::string("update_mask.paths[1]: unknown field 'title.text', ") + kExpected);
  request.mutable_update_mask()->set_paths(1, "inStock");  // a JSON name, not a field name
  ExpectRefused(request,
                std::string("update_mask.paths[1]: unknown field 'inStock', ") + kExpected);
  request.mutable_update_mask()->set_paths(1, "item_id");
  ExpectRefused(request,
                "update_mask.paths[1]: 'item_id' names the item and cannot be updated, "
                "expected other fields");
  request.mutable_update_mask()->set_paths(1, "*");
  ExpectRefused(request,
                "update_mask.paths[1]: '*' (the whole item) beside other paths, expected it "
                "alone");

  UpsertItemsRequest updates;
  auto* first = updates.add_updates();
  *first->mutable_item() = Item("a");
  first->mutable_update_mask()->add_paths("title");
  *updates.add_updates()->mutable_item() = Item("b");
  ExpectRefused(updates,
                "updates[1].update_mask: empty, expected the fields to write (e.g. in_stock) or "
                "'*' for the whole item");
  updates.mutable_updates(1)->mutable_update_mask()->add_paths("colour");
  ExpectRefused(updates,
                std::string("updates[1].update_mask.paths[0]: unknown field 'colour', ") +
                    kExpected);
}

TEST(UpsertPatchesTest, BadItemsAndMixedFormsAreRefused) {
  UpsertItemsRequest request;
  *request.add_items() = Item("a");
  request.mutable_items(0)->set_price(std::nan(""));
  ExpectRefused(request, "items[0].price: nan, expected a finite number (or no price)");

  UpsertItemsRequest updates;
  auto* update = updates.add_updates();
  update->mutable_update_mask()->add_paths("in_stock");
  ExpectRefused(updates, "updates[0].item.item_id: must not be empty");
  *update->mutable_item() = Item("a");
  EXPECT_TRUE(UpsertPatches(updates).ok());
  updates.mutable_update_mask()->add_paths("in_stock");
  ExpectRefused(updates,
                "update_mask: given with updates, expected it with items only (each of updates "
                "carries its own update_mask)");
  updates.clear_update_mask();
  *updates.add_items() = Item("b");
  ExpectRefused(updates,
                "items, updates: 1 items and 1 updates, expected one of them (items with "
                "update_mask, or updates)");
}

TEST(UpsertPatchesTest, LimitsCountUpdatesAndNameTheirItems) {
  AdminLimits limits;
  limits.max_items = 2;
  limits.max_id_bytes = 8;
  UpsertItemsRequest request;
  for (int i = 0; i < 3; ++i) *request.add_updates()->mutable_item() = Item("a");
  auto status = ValidateUpsertItems(request, limits);
  EXPECT_EQ(status.message(), "updates: at most 2 per call, got 3");
  request.mutable_updates()->RemoveLast();
  request.mutable_updates(1)->mutable_item()->set_item_id("123456789");
  status = ValidateUpsertItems(request, limits);
  EXPECT_EQ(status.message(), "updates[1].item.item_id: at most 8 bytes, got 9");
}

class InMemoryPatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CatalogItem a = Item("a");
    a.set_title("Alpha");
    a.add_categories("Drama");
    a.set_price(12.5);
    a.set_in_stock(true);
    view_ = rules::CatalogView::InMemory({a});
  }

  static storage::CatalogPatch Patch(const CatalogItem& item,
                                     const std::vector<std::string>& fields) {
    storage::CatalogPatch patch{item, {}};
    for (const std::string& f : fields) patch.fields.add_paths(f);
    return patch;
  }

  std::unique_ptr<rules::CatalogView> view_;
};

TEST_F(InMemoryPatchTest, StockOnlyKeepsTheOtherFields) {
  const uint64_t generation = view_->snapshot()->generation;
  CatalogItem out = Item("a");  // in_stock false, every other field empty
  auto counts = view_->Patch({Patch(out, {"in_stock"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->updated, 1);
  auto snapshot = view_->snapshot();
  const CatalogItem* a = snapshot->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->in_stock());
  EXPECT_EQ(a->title(), "Alpha");
  ASSERT_EQ(a->categories_size(), 1);
  EXPECT_EQ(a->categories(0), "Drama");
  EXPECT_DOUBLE_EQ(a->price(), 12.5);
  EXPECT_EQ(snapshot->generation, generation + 1);
  EXPECT_EQ(snapshot->base_generation, generation);
  EXPECT_EQ(snapshot->changed_ids, std::vector<std::string>{"a"});
}

TEST_F(InMemoryPatchTest, NewItemsStartInStockAndRepeatsApplyInOrder) {
  CatalogItem b = Item("b");
  b.set_title("Beta");
  CatalogItem b_price = Item("b");
  b_price.set_price(3);
  CatalogItem cleared = Item("a");  // no price: naming price clears it
  auto counts = view_->Patch(
      {Patch(b, {"title"}), Patch(b_price, {"price"}), Patch(cleared, {"price"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->added, 1);
  EXPECT_EQ(counts->updated, 1);
  auto snapshot = view_->snapshot();
  const CatalogItem* got = snapshot->Find("b");
  ASSERT_NE(got, nullptr);
  EXPECT_TRUE(got->in_stock());
  EXPECT_EQ(got->title(), "Beta");
  EXPECT_DOUBLE_EQ(got->price(), 3);
  EXPECT_FALSE(snapshot->Find("a")->has_price());
  EXPECT_EQ(snapshot->Find("a")->title(), "Alpha");
}

TEST_F(InMemoryPatchTest, NothingChangedPublishesNothing) {
  const uint64_t generation = view_->snapshot()->generation;
  CatalogItem same = Item("a");
  same.set_title("Alpha");
  auto counts = view_->Patch({Patch(same, {"title"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->unchanged, 1);
  EXPECT_EQ(counts->updated + counts->added, 0);
  EXPECT_EQ(view_->snapshot()->generation, generation);
}

TEST_F(InMemoryPatchTest, ABadPatchWritesNothing) {
  CatalogItem good = Item("a");
  CatalogItem bad = Item("c");
  bad.set_price(std::numeric_limits<double>::infinity());
  auto counts = view_->Patch({Patch(good, {"in_stock"}), Patch(bad, {"price"})});
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.status().message(),
            "patches[1].price: inf, expected a finite number (or no price)");
  EXPECT_TRUE(view_->snapshot()->Find("a")->in_stock());
  EXPECT_EQ(view_->snapshot()->Find("c"), nullptr);
  counts = view_->Patch({Patch(good, {"stock"})});
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.status().message(),
            "patches[0].fields: 'stock', expected CatalogItem field names");
}

}  // namespace
}  // namespace affinity::server
