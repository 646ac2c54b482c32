// Catalog loading from CSV, MovieLens movies.csv and JSON Lines files, and
// bad files rejected with PATH:LINE errors and nothing written.
#include "storage/catalog_loader.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using affinity::v1::CatalogItem;
using ::affinity::storage::testing::MakeTestDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

int64_t Day(int year, int month, int day) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone()));
}

class CatalogLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTestDir();
    absl::StatusOr<std::unique_ptr<CatalogStore>> store = CatalogStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  CatalogItem Get(const std::string& id) {
    absl::StatusOr<CatalogItem> item = store_->Get(id);
    EXPECT_TRUE(item.ok()) << item.status();
    return item.ok() ? *item : CatalogItem();
  }

  int64_t Count() {
    absl::StatusOr<int64_t> count = store_->Count();
    EXPECT_TRUE(count.ok());
    return count.ok() ? *count : -1;
  }

  // Loading `content` fails with InvalidArgument naming PATH:LINE, and the
  // store is left as it was.
  void ExpectRejected(const std::string& name, const std::string& content, int line,
                      const std::string& what, const CatalogReadOptions& options = {}) {
    const int64_t before = Count();
    const std::string path = WriteFile(name, content);
    absl::StatusOr<CatalogWriteCounts> loaded = LoadCatalogFile(path, *store_, options);
    ASSERT_TRUE(absl::IsInvalidArgument(loaded.status())) << loaded.status();
    EXPECT_THAT(loaded.status().message(), HasSubstr(absl::StrCat(path, ":", line, ": ")));
    EXPECT_THAT(loaded.status().message(), HasSubstr(what));
    EXPECT_EQ(Count(), before);
  }

  std::string dir_;
  std::unique_ptr<CatalogStore> store_;
};

TEST_F(CatalogLoaderTest, LoadsCsvWithAllColumns) {
  const std::string path = WriteFile(
      "items.csv",
      "tags,item_id,title,categories,brand,price,in_stock,created_at,region\n"
      "new|sale,sku-1,\"Chair, oak\",furniture|home,Acme,49.90,yes,2021-03-04,eu\n"
      "\"\",sku-2,\"The \"\"Best\"\" Lamp\",lighting,,12,false,1600000000,\n"
      ",sku-3,Plain,,,,1,,us\n");
  absl::StatusOr<CatalogWriteCounts> loaded = LoadCatalogFile(path, *store_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->added, 3);
  EXPECT_EQ(Count(), 3);

  CatalogItem chair = Get("sku-1");
  EXPECT_EQ(chair.title(), "Chair, oak");
  EXPECT_THAT(chair.categories(), ElementsAre("furniture", "home"));
  EXPECT_THAT(chair.tags(), ElementsAre("new", "sale"));
  EXPECT_EQ(chair.brand(), "Acme");
  EXPECT_DOUBLE_EQ(chair.price(), 49.90);
  EXPECT_TRUE(chair.in_stock());
  EXPECT_EQ(chair.created_at_unix(), Day(2021, 3, 4));
  EXPECT_EQ(chair.region(), "eu");

  CatalogItem lamp = Get("sku-2");
  EXPECT_EQ(lamp.title(), "The \"Best\" Lamp");
  EXPECT_THAT(lamp.tags(), IsEmpty());
  EXPECT_DOUBLE_EQ(lamp.price(), 12.0);
  EXPECT_FALSE(lamp.in_stock());
  EXPECT_EQ(lamp.created_at_unix(), 1600000000);

  CatalogItem plain = Get("sku-3");
  EXPECT_TRUE(plain.in_stock());
  EXPECT_EQ(plain.created_at_unix(), 0);
  EXPECT_FALSE(plain.has_price());  // an empty price is no price
  EXPECT_TRUE(chair.has_price());
  EXPECT_EQ(plain.region(), "us");
}

TEST_F(CatalogLoaderTest, NewItemOfACsvWithoutInStockColumnIsInStock) {
  const std::string path = WriteFile("min.csv", "item_id,category\nx,toys\n");
  ASSERT_TRUE(LoadCatalogFile(path, *store_).ok());
  CatalogItem x = Get("x");
  EXPECT_TRUE(x.in_stock());
  EXPECT_THAT(x.categories(), ElementsAre("toys"));
}

TEST_F(CatalogLoaderTest, LoadsMovieLensMovies) {
  const std::string path = WriteFile(
      "movies.csv",
      "movieId,title,genres\n"
      "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
      "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
      "140956,Ready Player One,(no genres listed)\n"
      "171749,Death Note: Desu nôto (2006–2007),Animation\n");
  absl::StatusOr<CatalogWriteCounts> loaded = LoadCatalogFile(path, *store_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->added, 4);

  CatalogItem toy = Get("1");
  EXPECT_EQ(toy.title(), "Toy Story (1995)");
  EXPECT_THAT(toy.categories(),
              ElementsAre("Adventure", "Animation", "Children", "Comedy", "Fantasy"));
  EXPECT_EQ(toy.created_at_unix(), Day(1995, 1, 1));
  EXPECT_TRUE(toy.in_stock());

  CatalogItem president = Get("11");
  EXPECT_EQ(president.title(), "American President, The (1995)");
  EXPECT_EQ(president.created_at_unix(), Day(1995, 1, 1));

  CatalogItem ready = Get("140956");
  EXPECT_THAT(ready.categories(), IsEmpty());
  EXPECT_EQ(ready.created_at_unix(), 0);
  EXPECT_EQ(Get("171749").created_at_unix(), 0);
}

TEST_F(CatalogLoaderTest, LoadsJsonLines) {
  const std::string path = WriteFile(
      "items.jsonl",
      "{\"itemId\": \"a\", \"title\": \"Alpha\", \"categories\": [\"x\", \"y\"], "
      "\"price\": 3.5, \"inStock\": true, \"createdAtUnix\": \"1700000000\"}\n"
      "\n"
      "{\"item_id\": \"b\", \"tags\": [\"t\"], \"region\": \"fr\"}\n");
  absl::StatusOr<CatalogWriteCounts> loaded = LoadCatalogFile(path, *store_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->added, 2);
  CatalogItem a = Get("a");
  EXPECT_EQ(a.title(), "Alpha");
  EXPECT_THAT(a.categories(), ElementsAre("x", "y"));
  EXPECT_DOUBLE_EQ(a.price(), 3.5);
  EXPECT_TRUE(a.in_stock());
  EXPECT_EQ(a.created_at_unix(), 1700000000);
  CatalogItem b = Get("b");
  EXPECT_THAT(b.tags(), ElementsAre("t"));
  EXPECT_EQ(b.region(), "fr");
  EXPECT_TRUE(b.in_stock());  // a new item without inStock: in stock
}

TEST_F(CatalogLoaderTest, ExplicitFormatOverridesDetection) {
  const std::string path = WriteFile("catalog.txt", "{\"itemId\": \"j\"}\n");
  absl::StatusOr<CatalogFileRows> items = ReadCatalogFile(path, {CatalogFormat::kJsonLines});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->rows.size(), 1u);
  EXPECT_EQ(items->rows[0].item.item_id(), "j");
}

TEST_F(CatalogLoaderTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(
      LoadCatalogFile(dir_ + "/does-not-exist.csv", *store_).status()));
}

TEST_F(CatalogLoaderTest, BadFilesWriteNothing) {
  // Something already loaded must stay untouched.
  ASSERT_TRUE(LoadCatalogFile(WriteFile("ok.csv", "item_id,title\nkeep,Kept\n"),
                              *store_)
                  .ok());
  ASSERT_EQ(Count(), 1);

  ExpectRejected("price.csv", "item_id,price\na,1\nb,2\nc,abc\n", 4,
                 "price 'abc', expected a finite number");
  ExpectRejected("nan.csv", "item_id,price\na,1\nb,nan\n", 3,
                 "price 'nan', expected a finite number");
  ExpectRejected("inf.csv", "item_id,price\na,-inf\n", 2, "price '-inf', expected a finite number");
  ExpectRejected("nan.jsonl", "{\"itemId\": \"a\", \"price\": 2}\n{\"itemId\": \"b\", \"price\": \"NaN\"}\n",
                 2, "price: nan, expected a finite number");
  ExpectRejected("inf.jsonl", "{\"itemId\": \"a\", \"price\": \"Infinity\"}\n", 1,
                 "price: inf, expected a finite number");
  ExpectRejected("stock.csv", "item_id,in_stock\na,maybe\n", 2, "in_stock 'maybe'");
  ExpectRejected("empty_stock.csv", "item_id,in_stock\na,true\nb, \n", 3,
                 "in_stock is empty, expected true, false, 1, 0, yes or no");
  ExpectRejected("null_stock.jsonl", "{\"itemId\": \"a\", \"inStock\": null}\n", 1,
                 "inStock is null, expected true or false");
  ExpectRejected("date.csv", "item_id,created_at\na,2021-13-45\n", 2,
                 "created_at '2021-13-45', expected Unix seconds or YYYY-MM-DD");
  ExpectRejected("column.csv", "item_id,category,categories\na,x,y\n", 1,
                 "columns 'category' and 'categories' both give categories");
  ExpectRejected("keys.jsonl", "{\"itemId\": \"a\"}\n{\"itemId\": \"b\", \"item_id\": \"c\"}\n", 2,
                 "keys 'itemId' and 'item_id' both give item_id");
  ExpectRejected("noid.csv", "title\nx\n", 1, "no item_id column");
  ExpectRejected("fields.csv", "item_id,title\na,\"x, y\"\nb,x,y\n", 3,
                 "3 fields, expected 2");
  ExpectRejected("dup.csv", "item_id\na\nb\na\n", 4,
                 "duplicate item_id 'a', expected unique ids (first on line 2)");
  ExpectRejected("empty_id.csv", "item_id,title\n,x\n", 2, "empty item_id");
  ExpectRejected("quote.csv", "item_id,title\na,\"open\n", 2, "unterminated");
  ExpectRejected("movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n2,Oops\n",
                 3, "2 fields, expected 3");
  ExpectRejected("items.jsonl", "{\"itemId\": \"a\"}\n{\"itemId\": \"b\"}\n{\"itemId\": \n",
                 3, "expected one CatalogItem JSON object per line");
  ExpectRejected("array.jsonl", "{\"itemId\": \"a\"}\n[1, 2]\n", 2,
                 "expected one CatalogItem JSON object per line");
  ExpectRejected("type.jsonl", "{\"itemId\": \"a\", \"title\": 3, \"colour\": 1}\n", 1,
                 "expected one CatalogItem JSON object per line");
  ExpectRejected("noid.jsonl", "{\"title\": \"x\"}\n", 1, "empty item_id");

  absl::StatusOr<CatalogItem> kept = store_->Get("keep");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->title(), "Kept");
  EXPECT_TRUE(absl::IsNotFound(store_->Get("a").status()));
}

TEST_F(CatalogLoaderTest, TextThatIsNotUtf8IsRejectedNamingTheField) {
  ASSERT_TRUE(LoadCatalogFile(WriteFile("ok.csv", "item_id,title\nkeep,Kept\n"), *store_).ok());
  // Windows-1252 / Latin-1 bytes in every kind of text field.
  ExpectRejected("cp1252_title.csv", "item_id,title\na,Fine\nb,Caf\xE9\n", 3,
                 "title is not valid UTF-8 (byte 0xE9 at offset 3), expected valid UTF-8");
  ExpectRejected("cp1252_id.csv", "item_id,title\nsk\xFC-1,Shoe\n", 2,
                 "item_id is not valid UTF-8 (byte 0xFC at offset 2)");
  ExpectRejected("cp1252_tags.csv", "item_id,tags,brand,region\na,new|M\xFCller,b,r\n", 2,
                 "tags[1] is not valid UTF-8 (byte 0xFC at offset 1)");
  ExpectRejected("cp1252_brand.csv", "item_id,brand\na,N\xE9stle\n", 2,
                 "brand is not valid UTF-8");
  ExpectRejected("surrogate.csv", "item_id,region\na,\xED\xA0\x80\n", 2,
                 "region is not valid UTF-8 (byte 0xED at offset 0)");
  ExpectRejected("truncated.csv", "item_id,categories\na,x|\xE2\x82\n", 2,
                 "categories[1] is not valid UTF-8");
  ExpectRejected("movies.csv",
                 "movieId,title,genres\n1,Heat (1995),Action\n2,Am\xE9lie (2001),Comedy\n", 3,
                 "title is not valid UTF-8 (byte 0xE9 at offset 2), expected valid UTF-8 "
                 "(convert the file first, e.g. iconv -f WINDOWS-1252 -t UTF-8)");
  ExpectRejected("raw.jsonl", "{\"itemId\": \"a\"}\n{\"itemId\": \"b\", \"title\": \"Caf\xE9\"}\n",
                 2, "byte 0xE9 at column 30 is not valid UTF-8, expected valid UTF-8");
  // A lone surrogate escape: the JSON parser refuses it.
  ExpectRejected("surrogate.jsonl", "{\"itemId\": \"a\\ud800\"}\n", 1,
                 "expected one CatalogItem JSON object per line");
  // NUL is valid UTF-8, but not in an id.
  ExpectRejected("nul.jsonl", "{\"itemId\": \"a\\u0000b\"}\n", 1,
                 "item_id contains a NUL byte (offset 1), expected an id without NUL bytes");
  ExpectRejected("nul.csv", std::string("item_id\na\0b\n", 13), 2,
                 "item_id contains a NUL byte (offset 1)");

  absl::StatusOr<CatalogItem> kept = store_->Get("keep");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->title(), "Kept");
  EXPECT_EQ(Count(), 1);
}

TEST_F(CatalogLoaderTest, Utf8TextAndByteOrderMarksAreRead) {
  absl::StatusOr<CatalogFileRows> csv = ReadCatalogFile(
      WriteFile("bom.csv", "\xEF\xBB\xBFitem_id,title\nsk\xC3\xBC-1,Caf\xC3\xA9 \xF0\x9F\x8E\xAC\n"));
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->rows.size(), 1u);
  EXPECT_EQ(csv->rows[0].item.item_id(), "sk\xC3\xBC-1");
  EXPECT_EQ(csv->rows[0].item.title(), "Caf\xC3\xA9 \xF0\x9F\x8E\xAC");

  absl::StatusOr<CatalogFileRows> movies = ReadCatalogFile(
      WriteFile("bom_movies.csv", "\xEF\xBB\xBFmovieId,title,genres\n7,Am\xC3\xA9lie (2001),Comedy\n"));
  ASSERT_TRUE(movies.ok()) << movies.status();
  ASSERT_EQ(movies->rows.size(), 1u);
  EXPECT_EQ(movies->rows[0].item.item_id(), "7");

  absl::StatusOr<CatalogFileRows> jsonl = ReadCatalogFile(
      WriteFile("bom.jsonl", "\xEF\xBB\xBF{\"itemId\": \"\\u00e9t\\u00e9\"}\n"));
  ASSERT_TRUE(jsonl.ok()) << jsonl.status();
  ASSERT_EQ(jsonl->rows.size(), 1u);
  EXPECT_EQ(jsonl->rows[0].item.item_id(), "\xC3\xA9t\xC3\xA9");
}

std::vector<std::string> Fields(const CatalogPatch& patch) {
  return {patch.fields.paths().begin(), patch.fields.paths().end()};
}

TEST_F(CatalogLoaderTest, EachRowNamesTheColumnsOfTheFile) {
  absl::StatusOr<CatalogFileRows> csv = ReadCatalogFile(
      WriteFile("part.csv", "in_stock,item_id,category,created_at\nno,a,toys,2020-01-01\n"));
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->rows.size(), 1u);
  EXPECT_THAT(Fields(csv->rows[0]),
              ElementsAre("in_stock", "item_id", "categories", "created_at_unix"));
  EXPECT_THAT(csv->ignored_columns, IsEmpty());

  absl::StatusOr<CatalogFileRows> jsonl = ReadCatalogFile(WriteFile(
      "part.jsonl",
      "{\"itemId\": \"a\", \"inStock\": false}\n{\"item_id\": \"b\", \"price\": null}\n"));
  ASSERT_TRUE(jsonl.ok()) << jsonl.status();
  ASSERT_EQ(jsonl->rows.size(), 2u);
  EXPECT_THAT(Fields(jsonl->rows[0]), ElementsAre("in_stock", "item_id"));
  EXPECT_THAT(Fields(jsonl->rows[1]), ElementsAre("item_id", "price"));
  EXPECT_FALSE(jsonl->rows[1].item.has_price());

  absl::StatusOr<CatalogFileRows> movies = ReadCatalogFile(
      WriteFile("movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n"));
  ASSERT_TRUE(movies.ok()) << movies.status();
  EXPECT_THAT(Fields(movies->rows[0]),
              ElementsAre("item_id", "title", "categories", "created_at_unix"));
}

TEST_F(CatalogLoaderTest, EmptyCellsClearTheirFields) {
  ASSERT_TRUE(LoadCatalogFile(WriteFile("full.csv",
                                        "item_id,title,categories,brand,price,created_at,"
                                        "region,tags,in_stock\n"
                                        "a,Chair,home,Acme,10,2020-01-01,eu,new,no\n"),
                              *store_)
                  .ok());
  absl::StatusOr<CatalogWriteCounts> counts = LoadCatalogFile(
      WriteFile("blank.csv",
                "item_id,title,categories,brand,price,created_at,region,tags\na,,,,,,,\n"),
      *store_);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->updated, 1);
  CatalogItem a = Get("a");
  EXPECT_EQ(a.title(), "");
  EXPECT_THAT(a.categories(), IsEmpty());
  EXPECT_EQ(a.brand(), "");
  EXPECT_FALSE(a.has_price());
  EXPECT_EQ(a.created_at_unix(), 0);
  EXPECT_EQ(a.region(), "");
  EXPECT_THAT(a.tags(), IsEmpty());
  EXPECT_FALSE(a.in_stock());  // not a column of blank.csv: kept
}

TEST_F(CatalogLoaderTest, ColumnMapRenamesTheFilesColumnsAndOthersAreIgnored) {
  absl::StatusOr<CatalogColumnMap> map =
      CatalogColumnMap::Parse("SKU:item_id, Product Name:title,Stock:in_stock,cats:category");
  ASSERT_TRUE(map.ok()) << map.status();
  // Header names match case-insensitively; a column of our name that the
  // map gives to another ("title" here) is ignored like any other.
  absl::StatusOr<CatalogFileRows> csv = ReadCatalogFile(
      WriteFile("theirs.csv",
                "sku,product name,title,Colour,stock,cats,Weight\n"
                "A1,Oak chair,ignored,red,yes,home|garden,3\n"),
      {CatalogFormat::kAuto, *map});
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_THAT(csv->ignored_columns, ElementsAre("title", "Colour", "Weight"));
  ASSERT_EQ(csv->rows.size(), 1u);
  const CatalogItem& item = csv->rows[0].item;
  EXPECT_EQ(item.item_id(), "A1");
  EXPECT_EQ(item.title(), "Oak chair");
  EXPECT_TRUE(item.in_stock());
  EXPECT_THAT(item.categories(), ElementsAre("home", "garden"));
  EXPECT_THAT(Fields(csv->rows[0]), ElementsAre("item_id", "title", "in_stock", "categories"));

  // JSON keys are matched as written; values follow the proto JSON mapping.
  absl::StatusOr<CatalogColumnMap> json_map =
      CatalogColumnMap::Parse("sku:item_id,name:title,launched:created_at");
  ASSERT_TRUE(json_map.ok()) << json_map.status();
  absl::StatusOr<CatalogFileRows> jsonl = ReadCatalogFile(
      WriteFile("theirs.jsonl",
                "{\"sku\": \"A1\", \"name\": \"Oak\", \"launched\": 1600000000, \"colour\": 1}\n"
                "{\"sku\": \"A2\", \"inStock\": false, \"weight\": 2, \"colour\": 3}\n"),
      {CatalogFormat::kAuto, *json_map});
  ASSERT_TRUE(jsonl.ok()) << jsonl.status();
  EXPECT_THAT(jsonl->ignored_columns, ElementsAre("colour", "weight"));
  ASSERT_EQ(jsonl->rows.size(), 2u);
  EXPECT_EQ(jsonl->rows[0].item.item_id(), "A1");
  EXPECT_EQ(jsonl->rows[0].item.title(), "Oak");
  EXPECT_EQ(jsonl->rows[0].item.created_at_unix(), 1600000000);
  EXPECT_THAT(Fields(jsonl->rows[0]), ElementsAre("created_at_unix", "title", "item_id"));
  EXPECT_EQ(jsonl->rows[1].item.item_id(), "A2");
  EXPECT_FALSE(jsonl->rows[1].item.in_stock());
  EXPECT_THAT(Fields(jsonl->rows[1]), ElementsAre("in_stock", "item_id"));
}

TEST_F(CatalogLoaderTest, ColumnMapNamingAColumnTheFileLacksIsRejected) {
  absl::StatusOr<CatalogColumnMap> map = CatalogColumnMap::Parse("sku:item_id,Brand Name:brand");
  ASSERT_TRUE(map.ok()) << map.status();
  ExpectRejected("theirs.csv", "sku,brand\nA1,Acme\n", 1,
                 "--columns names 'Brand Name', which is not a column of the file, expected one "
                 "of: sku, brand",
                 {CatalogFormat::kAuto, *map});
  const std::string path =
      WriteFile("theirs.jsonl", "{\"sku\": \"A1\"}\n{\"sku\": \"A2\", \"brand\": \"x\"}\n");
  absl::StatusOr<CatalogFileRows> jsonl = ReadCatalogFile(path, {CatalogFormat::kAuto, *map});
  ASSERT_TRUE(absl::IsInvalidArgument(jsonl.status())) << jsonl.status();
  EXPECT_EQ(jsonl.status().message(),
            path + ": --columns names 'Brand Name', which no line of the file has as a key");

  absl::StatusOr<CatalogColumnMap> id_only = CatalogColumnMap::Parse("id:item_id");
  ASSERT_TRUE(id_only.ok());
  absl::StatusOr<CatalogFileRows> movies = ReadCatalogFile(
      WriteFile("movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n"),
      {CatalogFormat::kAuto, *id_only});
  ASSERT_TRUE(absl::IsInvalidArgument(movies.status())) << movies.status();
  EXPECT_THAT(std::string(movies.status().message()),
              HasSubstr("--columns does not apply to a MovieLens movies.csv"));
  ExpectRejected("noid.csv", "sku,title\nA1,x\n", 1,
                 "no item_id column, expected a header naming item_id (or "
                 "--columns=THEIRS:item_id");
}

TEST(CatalogColumnMapTest, ParsesPairsAndNamesTheBadOne) {
  absl::StatusOr<CatalogColumnMap> map =
      CatalogColumnMap::Parse(" sku : item_id ,Price: EUR:price,");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->entries().size(), 2u);
  EXPECT_EQ(map->entries()[0].first, "sku");
  EXPECT_EQ(map->entries()[0].second, CatalogColumn::kItemId);
  EXPECT_EQ(map->entries()[1].first, "Price: EUR");  // THEIRS may hold ':'
  EXPECT_EQ(map->entries()[1].second, CatalogColumn::kPrice);
  EXPECT_TRUE(CatalogColumnMap::Parse("")->empty());

  const std::pair<const char*, const char*> bad[] = {
      {"sku", "--columns: 'sku' has no ':', expected THEIRS:OURS"},
      {"sku:", "--columns: 'sku:' has an empty side"},
      {":item_id", "--columns: ':item_id' has an empty side"},
      {"sku:id", "--columns: 'sku:id': 'id' is not a catalog column, expected one of item_id, "},
      {"sku:item_id,SKU:title", "--columns: 'SKU' is mapped twice"},
      {"cat:category,cats:categories",
       "--columns: 'cat' and 'cats' both map to categories, expected one file column per "
       "catalog column"},
  };
  for (const auto& [spec, want] : bad) {
    absl::StatusOr<CatalogColumnMap> parsed = CatalogColumnMap::Parse(spec);
    ASSERT_TRUE(absl::IsInvalidArgument(parsed.status())) << spec;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(want)) << spec;
  }
}

TEST_F(CatalogLoaderTest, ReplaceWithNoItemsIsRefused) {
  ASSERT_TRUE(LoadCatalogFile(WriteFile("ok.csv", "item_id,title\nkeep,Kept\n"), *store_).ok());
  const std::string path = WriteFile("header.csv", "item_id,title\n");
  absl::StatusOr<CatalogWriteCounts> counts =
      LoadCatalogFile(path, *store_, {}, CatalogLoadMode::kReplace);
  ASSERT_TRUE(absl::IsInvalidArgument(counts.status())) << counts.status();
  EXPECT_EQ(counts.status().message(),
            path + ": no items, expected at least one to replace the catalog with (replacing "
                   "would remove all 1 items of the catalog)");
  EXPECT_EQ(Count(), 1);
  // Without --replace a header alone is a load of nothing.
  counts = LoadCatalogFile(path, *store_);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->added + counts->updated + counts->unchanged, 0);
  EXPECT_EQ(Get("keep").title(), "Kept");
}

}  // namespace
}  // namespace affinity::storage
