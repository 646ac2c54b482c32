// The catalog store: upsert/replace, delete, point and batch reads,
// ordered iteration, exact counts, persistence and follower refresh.
#include "storage/catalog_store.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using affinity::v1::CatalogItem;
using ::affinity::storage::testing::MakeTestDir;
using ::testing::ElementsAre;

CatalogItem Item(const std::string& id, const std::string& title, double price) {
  CatalogItem item;
  item.set_item_id(id);
  item.set_title(title);
  item.set_price(price);
  item.add_categories("books");
  item.add_tags("a");
  item.add_tags("b");
  item.set_in_stock(true);
  item.set_created_at_unix(1600000000);
  return item;
}

bool Same(const CatalogItem& a, const CatalogItem& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::unique_ptr<CatalogStore> Open(const std::string& dir,
                                   CatalogStore::Mode mode = CatalogStore::Mode::kReadWrite) {
  absl::StatusOr<std::unique_ptr<CatalogStore>> store = CatalogStore::Open(dir, mode);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

int64_t Count(const CatalogStore& store) {
  absl::StatusOr<int64_t> count = store.Count();
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : -1;
}

std::vector<std::string> Ids(const CatalogStore& store) {
  std::vector<std::string> ids;
  absl::Status s = store.ForEach([&](const CatalogItem& item) {
    ids.push_back(item.item_id());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return ids;
}

TEST(CatalogStoreTest, UpsertGetDeleteAndCount) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store), 0);
  EXPECT_TRUE(absl::IsNotFound(store->Get("b").status()));

  const CatalogItem a = Item("a", "First, with comma", 9.5);
  const CatalogItem b = Item("b", "Second", 1.25);
  ASSERT_TRUE(store->Upsert({b, a}).ok());
  EXPECT_EQ(Count(*store), 2);
  absl::StatusOr<CatalogItem> got = store->Get("a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(Same(*got, a)) << got->DebugString();

  // Replacing keeps the count; the last duplicate in one call wins.
  const CatalogItem b2 = Item("b", "Second edition", 2.5);
  const CatalogItem c = Item("c", "Third", 3.0);
  ASSERT_TRUE(store->Upsert({Item("b", "stale", 0.0), c, b2}).ok());
  EXPECT_EQ(Count(*store), 3);
  got = store->Get("b");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(Same(*got, b2)) << got->DebugString();
  EXPECT_THAT(Ids(*store), ElementsAre("a", "b", "c"));

  absl::StatusOr<std::vector<std::optional<CatalogItem>>> many =
      store->GetMany({"c", "zzz", "a"});
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 3u);
  ASSERT_TRUE((*many)[0].has_value());
  EXPECT_TRUE(Same(*(*many)[0], c));
  EXPECT_FALSE((*many)[1].has_value());
  ASSERT_TRUE((*many)[2].has_value());
  EXPECT_TRUE(Same(*(*many)[2], a));

  absl::StatusOr<int64_t> removed = store->Delete({"a", "missing", "a"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Count(*store), 2);
  EXPECT_TRUE(absl::IsNotFound(store->Get("a").status()));
  EXPECT_THAT(Ids(*store), ElementsAre("b", "c"));
}

TEST(CatalogStoreTest, EmptyIdRejectsTheWholeCall) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  absl::Status s = store->Upsert({Item("a", "ok", 1.0), Item("", "no id", 2.0)});
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(Count(*store), 0);
  EXPECT_TRUE(absl::IsNotFound(store->Get("a").status()));
}

TEST(CatalogStoreTest, NonFinitePriceRejectsTheWholeCallNamingTheItem) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Upsert({Item("kept", "before", 5.0)}).ok());
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    absl::Status s = store->Upsert({Item("a", "ok", 1.0), Item("kept", "after", bad)});
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_EQ(s.message().rfind("catalog item #1 ('kept'): price: ", 0), 0u) << s;
    EXPECT_NE(s.message().find("expected a finite number"), std::string::npos) << s;
  }
  EXPECT_EQ(Count(*store), 1);
  EXPECT_TRUE(absl::IsNotFound(store->Get("a").status()));
  absl::StatusOr<CatalogItem> kept = store->Get("kept");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->title(), "before");
  EXPECT_EQ(kept->price(), 5.0);
}

TEST(CatalogStoreTest, AnUnsetPriceStaysUnsetAndAZeroPriceIsKept) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  CatalogItem unpriced = Item("unpriced", "no price", 0);
  unpriced.clear_price();
  ASSERT_TRUE(store->Upsert({unpriced, Item("free", "costs nothing", 0.0)}).ok());
  absl::StatusOr<CatalogItem> read = store->Get("unpriced");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_price());
  read = store->Get("free");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->has_price());
  EXPECT_EQ(read->price(), 0.0);
}

TEST(CatalogStoreTest, ForEachStopsAtFirstError) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Upsert({Item("a", "", 0), Item("b", "", 0), Item("c", "", 0)}).ok());
  int calls = 0;
  absl::Status s = store->ForEach([&](const CatalogItem& item) {
    ++calls;
    return item.item_id() == "b" ? absl::CancelledError("stop") : absl::OkStatus();
  });
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(calls, 2);
}

TEST(CatalogStoreTest, PersistsAcrossReopen) {
  const std::string dir = MakeTestDir();
  const CatalogItem a = Item("a", "kept", 4.0);
  {
    std::unique_ptr<CatalogStore> store = Open(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Upsert({a, Item("b", "gone", 1.0)}).ok());
    ASSERT_TRUE(store->Delete({"b"}).ok());
  }
  std::unique_ptr<CatalogStore> store = Open(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store), 1);
  absl::StatusOr<CatalogItem> got = store->Get("a");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(Same(*got, a));
}

TEST(CatalogStoreTest, FollowerSeesChangesAfterRefresh) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<CatalogStore> writer = Open(dir);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Upsert({Item("a", "one", 1.0)}).ok());
  std::unique_ptr<CatalogStore> follower = Open(dir, CatalogStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  EXPECT_EQ(Count(*follower), 1);

  ASSERT_TRUE(writer->Upsert({Item("b", "two", 2.0)}).ok());
  EXPECT_TRUE(absl::IsNotFound(follower->Get("b").status()));
  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_EQ(Count(*follower), 2);
  EXPECT_TRUE(follower->Get("b").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->Upsert({Item("c", "", 0)})));
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->Delete({"a"}).status()));
}

CatalogPatch PatchOf(const CatalogItem& item, std::vector<std::string> fields) {
  CatalogPatch patch;
  patch.item = item;
  for (std::string& field : fields) patch.fields.add_paths(std::move(field));
  return patch;
}

CatalogItem Stored(const CatalogStore& store, const std::string& id) {
  absl::StatusOr<CatalogItem> item = store.Get(id);
  EXPECT_TRUE(item.ok()) << item.status();
  return item.ok() ? *item : CatalogItem();
}

TEST(CatalogStoreTest, PatchWritesOnlyTheNamedFields) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  const CatalogItem chair = Item("chair", "Oak chair", 49.0);
  ASSERT_TRUE(store->Upsert({chair, Item("lamp", "Lamp", 12.0)}).ok());

  CatalogItem stock;
  stock.set_item_id("chair");
  stock.set_in_stock(false);
  CatalogItem unpriced;  // price named but unset: cleared
  unpriced.set_item_id("lamp");
  unpriced.add_tags("clearance");
  CatalogItem fresh;
  fresh.set_item_id("desk");
  fresh.set_title("Desk");
  absl::StatusOr<CatalogWriteCounts> counts = store->Patch(
      {PatchOf(stock, {"in_stock"}), PatchOf(unpriced, {"price", "tags"}),
       PatchOf(fresh, {"item_id", "title"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->added, 1);
  EXPECT_EQ(counts->updated, 2);
  EXPECT_EQ(counts->unchanged, 0);
  EXPECT_EQ(counts->removed, 0);
  EXPECT_EQ(Count(*store), 3);

  CatalogItem want = chair;
  want.set_in_stock(false);
  CatalogItem got = Stored(*store, "chair");
  EXPECT_TRUE(Same(got, want)) << got.DebugString();

  got = Stored(*store, "lamp");
  EXPECT_FALSE(got.has_price());
  EXPECT_THAT(got.tags(), ElementsAre("clearance"));  // replaced, not appended
  EXPECT_EQ(got.title(), "Lamp");
  EXPECT_THAT(got.categories(), ElementsAre("books"));

  // A new item: NewCatalogItem's defaults (in stock) under the patch.
  got = Stored(*store, "desk");
  EXPECT_EQ(got.title(), "Desk");
  EXPECT_TRUE(got.in_stock());
  EXPECT_FALSE(got.has_price());

  // The same values again change nothing.
  counts = store->Patch({PatchOf(stock, {"in_stock"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->unchanged, 1);
  EXPECT_EQ(counts->updated + counts->added, 0);
}

TEST(CatalogStoreTest, PatchesOfOneIdApplyInOrder) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  CatalogItem first = Item("a", "First", 1.0);
  CatalogItem second;
  second.set_item_id("a");
  second.set_title("Second");
  absl::StatusOr<CatalogWriteCounts> counts =
      store->Patch({PatchOf(first, {"title", "price"}), PatchOf(second, {"title"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->added, 1);
  CatalogItem got = Stored(*store, "a");
  EXPECT_EQ(got.title(), "Second");
  EXPECT_EQ(got.price(), 1.0);
}

TEST(CatalogStoreTest, BadPatchWritesNothing) {
  std::unique_ptr<CatalogStore> store = Open(MakeTestDir());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Upsert({Item("kept", "before", 5.0)}).ok());
  CatalogItem retitled = Item("kept", "after", 5.0);
  absl::StatusOr<CatalogWriteCounts> counts =
      store->Patch({PatchOf(retitled, {"title"}), PatchOf(Item("x", "", 1.0), {"colour"})});
  EXPECT_TRUE(absl::IsInvalidArgument(counts.status())) << counts.status();
  EXPECT_THAT(std::string(counts.status().message()),
              ::testing::HasSubstr("catalog item #1 ('x'): fields 'colour'"));
  counts = store->Patch(
      {PatchOf(retitled, {"title"}), PatchOf(Item("kept", "", std::nan("")), {"price"})});
  EXPECT_TRUE(absl::IsInvalidArgument(counts.status())) << counts.status();
  EXPECT_THAT(std::string(counts.status().message()),
              ::testing::HasSubstr("catalog item #1 ('kept'): price: "));
  counts = store->Replace({PatchOf(Item("", "no id", 1.0), {"title"})});
  EXPECT_TRUE(absl::IsInvalidArgument(counts.status())) << counts.status();
  EXPECT_EQ(Count(*store), 1);
  EXPECT_EQ(Stored(*store, "kept").title(), "before");
  EXPECT_TRUE(absl::IsNotFound(store->Get("x").status()));
}

TEST(CatalogStoreTest, ReplaceMakesTheCatalogThePatchesAlone) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<CatalogStore> store = Open(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Upsert({Item("a", "A", 1.0), Item("b", "B", 2.0), Item("c", "C", 3.0)}).ok());
  CatalogItem b;  // only the title: every other field takes its default
  b.set_item_id("b");
  b.set_title("B2");
  CatalogItem c = NewCatalogItem("c");
  c.set_title("C");
  CatalogItem d = NewCatalogItem("d");
  absl::StatusOr<CatalogWriteCounts> counts =
      store->Replace({PatchOf(b, {"title"}), PatchOf(d, {}), PatchOf(c, {"title"})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->added, 1);    // d
  EXPECT_EQ(counts->updated, 2);  // b, c (c loses its price, categories, tags)
  EXPECT_EQ(counts->unchanged, 0);
  EXPECT_EQ(counts->removed, 1);  // a
  EXPECT_EQ(Count(*store), 3);
  EXPECT_THAT(Ids(*store), ElementsAre("b", "c", "d"));
  CatalogItem want = NewCatalogItem("b");
  want.set_title("B2");
  EXPECT_TRUE(Same(Stored(*store, "b"), want)) << Stored(*store, "b").DebugString();
  EXPECT_TRUE(Same(Stored(*store, "c"), c));

  // Replacing with the same content changes nothing.
  counts = store->Replace({PatchOf(want, {"title"}), PatchOf(c, {"title"}), PatchOf(d, {})});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->unchanged, 3);
  EXPECT_EQ(counts->added + counts->updated + counts->removed, 0);

  // The count survives a reopen.
  store.reset();
  store = Open(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store), 3);
}

}  // namespace
}  // namespace affinity::storage
