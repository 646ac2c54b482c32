#include "tools/loadgen/request_generator.h"

#include <fstream>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::loadgen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RequestMix Mix() {
  RequestMix mix;
  mix.users = {"u1", "u2", "u3"};
  mix.items = {"i1", "i2", "i3", "i4"};
  mix.recent_per_request = 3;
  mix.recent_weight = 2.0f;
  mix.k = 5;
  mix.rule_set = "kids";
  return mix;
}

TEST(RequestGeneratorTest, RecommendRequestsDrawFromTheLists) {
  auto generator = RequestGenerator::Create(Mix());
  ASSERT_TRUE(generator.ok()) << generator.status();
  std::set<std::string> users_seen;
  for (int i = 0; i < 200; ++i) {
    const affinity::v1::RecommendRequest r = generator->NextRecommend();
    users_seen.insert(r.user_id());
    EXPECT_EQ(r.k(), 5);
    EXPECT_EQ(r.rule_set(), "kids");
    ASSERT_EQ(r.recent_size(), 3);
    std::set<std::string> items;
    for (const auto& interaction : r.recent()) {
      items.insert(interaction.item_id());
      EXPECT_FLOAT_EQ(interaction.weight(), 2.0f);
    }
    EXPECT_EQ(items.size(), 3u) << "recent items must be distinct";
    for (const auto& id : items) EXPECT_THAT(Mix().items, ::testing::Contains(id));
  }
  EXPECT_EQ(users_seen, (std::set<std::string>{"u1", "u2", "u3"}));
}

TEST(RequestGeneratorTest, SameSeedSameRequests) {
  auto a = RequestGenerator::Create(Mix());
  auto b = RequestGenerator::Create(Mix());
  RequestMix other = Mix();
  other.seed = 2;
  auto c = RequestGenerator::Create(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const std::string ra = a->NextRecommend().SerializeAsString();
    EXPECT_EQ(ra, b->NextRecommend().SerializeAsString());
    differs |= ra != c->NextRecommend().SerializeAsString();
  }
  EXPECT_TRUE(differs);
}

TEST(RequestGeneratorTest, RejectsImpossibleMixes) {
  RequestMix too_many = Mix();
  too_many.recent_per_request = 5;
  auto status = RequestGenerator::Create(too_many).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--recent_per_request=5"));

  RequestMix no_users = Mix();
  no_users.users.clear();
  EXPECT_FALSE(RequestGenerator::Create(no_users).ok());

  RequestMix similar_without_items = Mix();
  similar_without_items.method = Method::kSimilar;
  similar_without_items.items.clear();
  EXPECT_FALSE(RequestGenerator::Create(similar_without_items).ok());
}

TEST(RequestGeneratorTest, SimilarRequestsPickItems) {
  RequestMix mix = Mix();
  mix.method = Method::kSimilar;
  auto generator = RequestGenerator::Create(mix);
  ASSERT_TRUE(generator.ok());
  const affinity::v1::SimilarItemsRequest r = generator->NextSimilar();
  EXPECT_THAT(mix.items, ::testing::Contains(r.item_id()));
  EXPECT_EQ(r.k(), 5);
}

TEST(IdListsTest, NumberedIds) {
  EXPECT_THAT(NumberedIds("user", 3), ElementsAre("user1", "user2", "user3"));
  EXPECT_TRUE(NumberedIds("x", 0).empty());
}

TEST(IdListsTest, ReadIdFileSkipsBlanksAndComments) {
  const std::string path = ::testing::TempDir() + "/ids.txt";
  {
    std::ofstream out(path);
    out << "# users\n a \n\nb\n";
  }
  auto ids = ReadIdFile(path);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("a", "b"));

  auto missing = ReadIdFile(path + ".missing");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("ids.txt.missing"));
}

}  // namespace
}  // namespace affinity::loadgen
