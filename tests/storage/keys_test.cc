// Key layout and value codecs of the model store: keys sort numerically by
// version and index, parse back, and malformed values are DataLoss.
#include "storage/keys.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/record_codec.h"

namespace affinity::storage {
namespace {

using ::testing::ElementsAre;

TEST(KeysTest, VersionKeysSortNumericallyAndParseBack) {
  EXPECT_LT(keys::Published(255), keys::Published(256));
  EXPECT_LT(keys::Item(1, 255), keys::Item(1, 256));
  EXPECT_LT(keys::Item(1, 0xffffffffu), keys::User(1, ""));
  EXPECT_LT(keys::User(1, "\xff\xff"), keys::VersionDataBegin(2));
  EXPECT_EQ(keys::ParsePublished(keys::Published(1ull << 40)), 1ull << 40);
  EXPECT_EQ(keys::ParseItem(7, keys::Item(7, 70000)), 70000u);
  EXPECT_EQ(keys::ParseItem(8, keys::Item(7, 1)), std::nullopt);
  EXPECT_EQ(keys::ParseUser(3, keys::User(3, "alice")), "alice");
  EXPECT_EQ(keys::ParseVersionData(keys::Popular(9)), 9u);
  EXPECT_EQ(keys::ParseVersionData(keys::Published(9)), std::nullopt);
  EXPECT_EQ(keys::ParseCatalogItem(keys::CatalogItem("sku")), "sku");

  for (const std::string& key : {keys::Item(5, 3), keys::User(5, "u"), keys::Popular(5)}) {
    EXPECT_GE(key, keys::VersionDataBegin(5));
    EXPECT_LT(key, keys::VersionDataEnd(5));
  }
}

TEST(KeysTest, PrefixEndBoundsThePrefix) {
  EXPECT_EQ(keys::PrefixEnd("v/"), "v0");
  EXPECT_EQ(keys::PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_LT(keys::User(2, "\xff\xff\xff"), keys::PrefixEnd(keys::UserPrefix(2)));
}

TEST(KeysTest, IndexKeysParseAndStayInsideTheirVersion) {
  // A generation and a chunk number whose bytes hold '/' (0x2f).
  const uint64_t generation = 0x2f2f00ff2f2f2f2fULL;
  const std::string chunk = keys::IndexChunk(3, "hnsw", "M=16,ef_construction=200", generation,
                                             0x2f2f);
  std::optional<keys::IndexKey> parsed = keys::ParseIndex(3, chunk);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, "hnsw");
  EXPECT_EQ(parsed->params, "M=16,ef_construction=200");
  EXPECT_EQ(parsed->generation, generation);
  EXPECT_EQ(parsed->chunk, std::optional<uint32_t>(0x2f2f));
  parsed = keys::ParseIndex(3, keys::IndexHeader(3, "hnsw", "M=16"));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->chunk.has_value());
  EXPECT_FALSE(keys::ParseIndex(4, chunk).has_value());
  EXPECT_FALSE(keys::ParseIndex(3, keys::Item(3, 1)).has_value());
  EXPECT_FALSE(keys::ParseIndex(3, chunk.substr(0, chunk.size() - 1)).has_value());
  // Every index key is version data: DeleteVersion's range removes it.
  EXPECT_GT(chunk, keys::VersionDataBegin(3));
  EXPECT_LT(chunk, keys::VersionDataEnd(3));
  EXPECT_EQ(keys::ParseVersionData(chunk), std::optional<uint64_t>(3));
  EXPECT_TRUE(keys::IsValidIndexName("M=16,ef_construction=200"));
  EXPECT_FALSE(keys::IsValidIndexName("a/b"));
  EXPECT_FALSE(keys::IsValidIndexName(""));
}

TEST(RecordCodecTest, RoundTripsAndRejectsTruncatedValues) {
  std::string value;
  EncodeUser(42, std::vector<float>{1.5f, -2.0f}, std::vector<uint32_t>{3, 9}, &value);
  EXPECT_EQ(value.size(), 16u + 2 * 4 + 2 * 4);
  absl::StatusOr<UserRecord> user = DecodeUser(value);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->index, 42);
  EXPECT_THAT(user->factors, ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(user->seen, ElementsAre(3u, 9u));
  EXPECT_TRUE(absl::IsDataLoss(DecodeUser(value.substr(0, value.size() - 1)).status()));

  EncodeItem("it,em", std::vector<float>{0.25f, 4.0f, -1.0f}, &value);
  absl::StatusOr<ItemView> item = DecodeItem(value);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->item_id, "it,em");
  EXPECT_EQ(item->dims, 3u);
  std::vector<float> factors(3);
  CopyFactors(*item, absl::MakeSpan(factors));
  EXPECT_THAT(factors, ElementsAre(0.25f, 4.0f, -1.0f));
  EXPECT_TRUE(absl::IsDataLoss(DecodeItem(value.substr(0, 8)).status()));

  absl::StatusOr<std::vector<uint32_t>> popular =
      DecodePopular(EncodePopular(std::vector<uint32_t>{5, 1, 7}));
  ASSERT_TRUE(popular.ok());
  EXPECT_THAT(*popular, ElementsAre(5u, 1u, 7u));
  EXPECT_TRUE(absl::IsDataLoss(DecodePopular("abc").status()));
}

}  // namespace
}  // namespace affinity::storage
