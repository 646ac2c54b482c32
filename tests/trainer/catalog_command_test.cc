// `affinity-train catalog` as the binary runs it (its flags, then
// LoadCatalogCommand): a file updates only its own columns, a stock-only
// update loses nothing, --replace makes the catalog the file and says what
// it removed, --columns reads other column names, and unknown columns are
// named once on stderr.
#include "trainer/catalog_command.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "tests/storage/test_dir.h"
#include "trainer/train_flags.h"

ABSL_DECLARE_FLAG(std::string, catalog_format);
ABSL_DECLARE_FLAG(std::string, columns);
ABSL_DECLARE_FLAG(bool, replace);

namespace affinity {
namespace {

using affinity::v1::CatalogItem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class CatalogCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = storage::testing::MakeTestDir(); }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs the command on `file` with the other flags as set; returns its
  // status, with stdout and stderr in out_ and err_.
  absl::Status Run(const std::string& file) {
    absl::SetFlag(&FLAGS_db, dir_ + "/db");
    absl::SetFlag(&FLAGS_input, file);
    out_.str("");
    err_.str("");
    return LoadCatalogCommand(out_, err_);
  }

  // The stored catalog, read after the command closed it.
  std::map<std::string, CatalogItem> Catalog() {
    std::map<std::string, CatalogItem> items;
    auto store = storage::CatalogStore::Open(dir_ + "/db", storage::CatalogStore::Mode::kFollower);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return items;
    absl::Status s = (*store)->ForEach([&](const CatalogItem& item) {
      items[item.item_id()] = item;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    absl::StatusOr<int64_t> count = (*store)->Count();
    EXPECT_TRUE(count.ok() && *count == static_cast<int64_t>(items.size()));
    return items;
  }

  absl::FlagSaver flags_;
  std::string dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr char kProducts[] =
    "item_id,title,category,brand,price,in_stock,created_at,tags\n"
    "sku-120,Oak chair,furniture|home,Acme,49.90,true,2024-03-01,new\n"
    "sku-121,Desk lamp,lighting,Lumo,12,false,2023-11-20,\n"
    "sku-122,Rug,home,,80,yes,,sale\n";

TEST_F(CatalogCommandTest, AStockOnlyFileChangesStockAndNothingElse) {
  ASSERT_TRUE(Run(WriteFile("products.csv", kProducts)).ok());
  EXPECT_EQ(out_.str(), absl::StrCat("loaded 3 items from ", dir_,
                                     "/products.csv: 3 added, 0 updated, 0 unchanged (3 items "
                                     "in the catalog)\n"));
  const std::map<std::string, CatalogItem> before = Catalog();

  absl::Status s = Run(WriteFile("stock.csv", "item_id,in_stock\nsku-120,false\nsku-121,yes\n"));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(out_.str(), HasSubstr(": 0 added, 2 updated, 0 unchanged (3 items in the catalog)"));
  EXPECT_EQ(err_.str(), "");
  std::map<std::string, CatalogItem> after = Catalog();
  ASSERT_EQ(after.size(), 3u);
  const CatalogItem& chair = after["sku-120"];
  EXPECT_FALSE(chair.in_stock());
  EXPECT_EQ(chair.title(), "Oak chair");
  EXPECT_THAT(chair.categories(), ElementsAre("furniture", "home"));
  EXPECT_EQ(chair.brand(), "Acme");
  EXPECT_DOUBLE_EQ(chair.price(), 49.90);
  EXPECT_THAT(chair.tags(), ElementsAre("new"));
  EXPECT_EQ(chair.created_at_unix(), before.at("sku-120").created_at_unix());
  EXPECT_TRUE(after["sku-121"].in_stock());
  EXPECT_EQ(after["sku-121"].title(), "Desk lamp");
  // An item the file does not name is untouched.
  EXPECT_EQ(after["sku-122"].SerializeAsString(), before.at("sku-122").SerializeAsString());
}

TEST_F(CatalogCommandTest, AFileWithoutInStockLeavesStockAsStored) {
  ASSERT_TRUE(Run(WriteFile("products.csv", kProducts)).ok());
  absl::Status s =
      Run(WriteFile("prices.csv", "item_id,price,title\nsku-121,9.5,Desk lamp\nsku-130,5,Mug\n"));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(out_.str(), HasSubstr(": 1 added, 1 updated, 0 unchanged (4 items in the catalog)"));
  std::map<std::string, CatalogItem> after = Catalog();
  EXPECT_FALSE(after["sku-121"].in_stock());  // was out of stock, still is
  EXPECT_DOUBLE_EQ(after["sku-121"].price(), 9.5);
  EXPECT_EQ(after["sku-121"].brand(), "Lumo");
  // A new item gets the defaults of the columns the file lacks: in stock.
  EXPECT_TRUE(after["sku-130"].in_stock());
  EXPECT_EQ(after["sku-130"].title(), "Mug");
  EXPECT_THAT(after["sku-130"].categories(), IsEmpty());
}

TEST_F(CatalogCommandTest, JsonLinesKeysAbsentFromALineKeepTheirValues) {
  ASSERT_TRUE(Run(WriteFile("products.csv", kProducts)).ok());
  absl::Status s = Run(WriteFile(
      "changes.jsonl",
      "{\"itemId\": \"sku-120\", \"inStock\": false}\n"
      "{\"itemId\": \"sku-122\", \"price\": null, \"tags\": []}\n"
      "{\"itemId\": \"sku-140\", \"title\": \"Vase\", \"colour\": \"blue\"}\n"));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(out_.str(), HasSubstr(": 1 added, 2 updated, 0 unchanged (4 items in the catalog)"));
  EXPECT_THAT(err_.str(), HasSubstr("ignored columns that are not catalog columns: 'colour'"));
  std::map<std::string, CatalogItem> after = Catalog();
  EXPECT_FALSE(after["sku-120"].in_stock());
  EXPECT_EQ(after["sku-120"].title(), "Oak chair");
  EXPECT_DOUBLE_EQ(after["sku-120"].price(), 49.90);
  EXPECT_FALSE(after["sku-122"].has_price());  // null clears
  EXPECT_THAT(after["sku-122"].tags(), IsEmpty());
  EXPECT_EQ(after["sku-122"].title(), "Rug");
  EXPECT_TRUE(after["sku-122"].in_stock());
  EXPECT_EQ(after["sku-140"].title(), "Vase");
  EXPECT_TRUE(after["sku-140"].in_stock());
}

TEST_F(CatalogCommandTest, ReplaceMakesTheCatalogTheFileAndSaysWhatItRemoved) {
  ASSERT_TRUE(Run(WriteFile("products.csv", kProducts)).ok());
  absl::SetFlag(&FLAGS_replace, true);
  absl::Status s = Run(WriteFile(
      "today.csv", "item_id,title,price\nsku-120,Oak chair,49.90\nsku-150,Stool,20\n"));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out_.str(), absl::StrCat("replaced the catalog with 2 items from ", dir_,
                                     "/today.csv: 1 added, 1 updated, 0 unchanged, 2 removed "
                                     "(2 items in the catalog)\n"));
  std::map<std::string, CatalogItem> after = Catalog();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count("sku-121") + after.count("sku-122"), 0u);
  // Columns the file lacks take their defaults: the whole item is the file's.
  const CatalogItem& chair = after["sku-120"];
  EXPECT_EQ(chair.title(), "Oak chair");
  EXPECT_DOUBLE_EQ(chair.price(), 49.90);
  EXPECT_EQ(chair.brand(), "");
  EXPECT_THAT(chair.categories(), IsEmpty());
  EXPECT_TRUE(chair.in_stock());
  EXPECT_EQ(after["sku-150"].title(), "Stool");

  // A bad row anywhere: nothing is replaced or removed.
  s = Run(WriteFile("bad.csv", "item_id,price\nsku-160,3\nsku-161,cheap\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("bad.csv:3: price 'cheap'"));
  EXPECT_EQ(Catalog().size(), 2u);
  EXPECT_EQ(Catalog()["sku-150"].title(), "Stool");
}

TEST_F(CatalogCommandTest, ColumnMapReadsTheRetailersNamesAndUnknownColumnsAreNamedOnce) {
  absl::SetFlag(&FLAGS_columns, "SKU:item_id,Product Name:title,Stock:in_stock,Cost:price");
  absl::Status s = Run(WriteFile("export.csv",
                                 "SKU,Product Name,Stock,Cost,Colour,Weight\n"
                                 "A1,Oak chair,no,49.9,brown,7\n"
                                 "A2,Lamp,yes,12,white,1\n"));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(err_.str(), absl::StrCat("note: ", dir_,
                                     "/export.csv: ignored columns that are not catalog columns: "
                                     "'Colour', 'Weight' (map one with --columns=THEIRS:OURS)\n"));
  std::map<std::string, CatalogItem> after = Catalog();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after["A1"].title(), "Oak chair");
  EXPECT_FALSE(after["A1"].in_stock());
  EXPECT_DOUBLE_EQ(after["A1"].price(), 49.9);
  EXPECT_TRUE(after["A2"].in_stock());

  // A map naming a column the file lacks: an error naming it, nothing written.
  absl::SetFlag(&FLAGS_columns, "SKU:item_id,Brand:brand");
  s = Run(WriteFile("stock.csv", "SKU,in_stock\nA1,yes\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("stock.csv:1: --columns names 'Brand', which is not a column of the "
                        "file, expected one of: SKU, in_stock"));
  EXPECT_FALSE(Catalog()["A1"].in_stock());

  absl::SetFlag(&FLAGS_columns, "SKU");
  s = Run(WriteFile("stock.csv", "SKU,in_stock\nA1,yes\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("--columns: 'SKU' has no ':'"));
}

TEST_F(CatalogCommandTest, AnEmptyInStockCellIsAnErrorAndWritesNothing) {
  ASSERT_TRUE(Run(WriteFile("products.csv", kProducts)).ok());
  absl::Status s = Run(WriteFile("stock.csv", "item_id,in_stock\nsku-120,no\nsku-121,\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("stock.csv:3: in_stock is empty, expected true, false, 1, 0, yes or no"));
  EXPECT_TRUE(Catalog()["sku-120"].in_stock());
}

}  // namespace
}  // namespace affinity
