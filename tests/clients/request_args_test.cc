#include "tools/cli/request_args.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseRecentTest, ParsesItemsAndWeightsInOrder) {
  auto recent = ParseRecent("i1:2.5, i2 : 0 ,i3:1e1");
  ASSERT_TRUE(recent.ok()) << recent.status();
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ((*recent)[0].item_id(), "i1");
  EXPECT_FLOAT_EQ((*recent)[0].weight(), 2.5f);
  EXPECT_EQ((*recent)[1].item_id(), "i2");
  EXPECT_FLOAT_EQ((*recent)[1].weight(), 0.0f);
  EXPECT_EQ((*recent)[2].item_id(), "i3");
  EXPECT_FLOAT_EQ((*recent)[2].weight(), 10.0f);
}

TEST(ParseRecentTest, EmptyTextIsNoInteractions) {
  auto recent = ParseRecent("  ");
  ASSERT_TRUE(recent.ok());
  EXPECT_TRUE(recent->empty());
}

TEST(ParseRecentTest, WeightFollowsTheLastColon) {
  auto recent = ParseRecent("urn:movie:42:3");
  ASSERT_TRUE(recent.ok()) << recent.status();
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].item_id(), "urn:movie:42");
  EXPECT_FLOAT_EQ((*recent)[0].weight(), 3.0f);
}

struct BadRecentCase {
  const char* text;
  const char* names;  // the error must quote this entry
  const char* entry;  // "entry N"
};

class BadRecentTest : public ::testing::TestWithParam<BadRecentCase> {};

TEST_P(BadRecentTest, RejectedWithEntryNamed) {
  const BadRecentCase& c = GetParam();
  auto recent = ParseRecent(c.text);
  ASSERT_FALSE(recent.ok()) << c.text;
  EXPECT_EQ(recent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(recent.status().message(), HasSubstr("--recent"));
  EXPECT_THAT(recent.status().message(), HasSubstr(c.entry));
  EXPECT_THAT(recent.status().message(), HasSubstr(c.names));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRecentTest,
    ::testing::Values(BadRecentCase{"a:1,b", "\"b\"", "entry 2"},
                      BadRecentCase{"a:1,b:x", "\"b:x\"", "entry 2"},
                      BadRecentCase{"a:-1", "\"a:-1\"", "entry 1"},
                      BadRecentCase{"a:nan", "\"a:nan\"", "entry 1"},
                      BadRecentCase{"a:inf", "\"a:inf\"", "entry 1"},
                      BadRecentCase{":2", "\":2\"", "entry 1"},
                      BadRecentCase{"a:", "\"a:\"", "entry 1"},
                      BadRecentCase{"a:1,,b:2", "empty entry", "entry 2"},
                      BadRecentCase{"a:1,", "empty entry", "entry 2"},
                      BadRecentCase{"a:1 2", "\"a:1 2\"", "entry 1"}));

TEST(ParseIdListTest, SplitsAndTrims) {
  auto ids = ParseIdList(" a, b ,c", "--exclude");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ::testing::ElementsAre("a", "b", "c"));
}

TEST(ParseIdListTest, EmptyTextIsEmptyList) {
  auto ids = ParseIdList("", "--exclude");
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

TEST(ParseIdListTest, EmptyEntryNamesFlagAndPosition) {
  auto ids = ParseIdList("a,,b", "--exclude");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.status().message(), HasSubstr("--exclude entry 2"));
}

TEST(ParseFiltersJsonTest, ParsesEveryConditionOfEachEntryInOrder) {
  auto filters = ParseFiltersJson(
      R"([{"attribute":"category","anyOf":["Comedy","Drama"]},
          {"attribute":"brand","none_of":["Acme"],"keepMissing":true},
          {"attribute":"price","min":10,"max":"50.5"},
          {"attribute":"in_stock","equals":true},
          {"attribute":"created_at","newerThan":"2005-01-01",
           "olderThan":"2020-01-01T00:00:00Z"}])");
  ASSERT_TRUE(filters.ok()) << filters.status();
  ASSERT_EQ(filters->size(), 5u);
  const auto& f = *filters;
  EXPECT_EQ(f[0].attribute(), "category");
  EXPECT_THAT(f[0].any_of(), ::testing::ElementsAre("Comedy", "Drama"));
  EXPECT_FALSE(f[0].keep_missing());
  EXPECT_EQ(f[1].attribute(), "brand");
  EXPECT_THAT(f[1].none_of(), ::testing::ElementsAre("Acme"));
  EXPECT_TRUE(f[1].keep_missing());
  EXPECT_EQ(f[2].attribute(), "price");
  ASSERT_TRUE(f[2].has_min());
  ASSERT_TRUE(f[2].has_max());
  EXPECT_DOUBLE_EQ(f[2].min(), 10.0);
  EXPECT_DOUBLE_EQ(f[2].max(), 50.5);
  EXPECT_FALSE(f[2].has_equals());
  EXPECT_EQ(f[3].attribute(), "in_stock");
  ASSERT_TRUE(f[3].has_equals());
  EXPECT_TRUE(f[3].equals());
  EXPECT_FALSE(f[3].has_min());
  EXPECT_EQ(f[4].newer_than(), "2005-01-01");
  EXPECT_EQ(f[4].older_than(), "2020-01-01T00:00:00Z");
}

TEST(ParseFiltersJsonTest, SetsOnlyTheBoundsGiven) {
  auto filters = ParseFiltersJson(R"([{"attribute":"price","max":0}])");
  ASSERT_TRUE(filters.ok()) << filters.status();
  ASSERT_EQ(filters->size(), 1u);
  EXPECT_FALSE((*filters)[0].has_min());
  ASSERT_TRUE((*filters)[0].has_max());
  EXPECT_DOUBLE_EQ((*filters)[0].max(), 0.0);
}

TEST(ParseFiltersJsonTest, OneObjectIsOneFilter) {
  auto filters = ParseFiltersJson(R"( {"attribute":"in_stock","equals":false} )");
  ASSERT_TRUE(filters.ok()) << filters.status();
  ASSERT_EQ(filters->size(), 1u);
  EXPECT_EQ((*filters)[0].attribute(), "in_stock");
  ASSERT_TRUE((*filters)[0].has_equals());
  EXPECT_FALSE((*filters)[0].equals());
}

TEST(ParseFiltersJsonTest, EmptyTextAndEmptyArrayAreNoFilters) {
  for (const char* text : {"", "  ", "[]"}) {
    auto filters = ParseFiltersJson(text);
    ASSERT_TRUE(filters.ok()) << text << ": " << filters.status();
    EXPECT_TRUE(filters->empty()) << text;
  }
}

struct BadFiltersCase {
  const char* text;
  const char* names;  // the error must contain this (entry text or reason)
};

class BadFiltersJsonTest : public ::testing::TestWithParam<BadFiltersCase> {};

TEST_P(BadFiltersJsonTest, RejectedWithFlagAndCauseNamed) {
  const BadFiltersCase& c = GetParam();
  auto filters = ParseFiltersJson(c.text);
  ASSERT_FALSE(filters.ok()) << c.text;
  EXPECT_EQ(filters.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(filters.status().message(), HasSubstr("--filters_json"));
  EXPECT_THAT(filters.status().message(), HasSubstr(c.names));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadFiltersJsonTest,
    ::testing::Values(
        // Not JSON at all, or cut short.
        BadFiltersCase{"price<50", "not valid JSON"},
        BadFiltersCase{R"([{"attribute":"price","max":50})", "not valid JSON"},
        // Neither an array nor an object.
        BadFiltersCase{R"("price")", "JSON array of Filter objects"},
        BadFiltersCase{"42", "JSON array of Filter objects"},
        // An entry that is not an object.
        BadFiltersCase{R"([{"attribute":"brand","anyOf":["A"]}, "price"])",
                       "entry 2 \"price\": not a JSON object"},
        // Unknown field (a typo), named with its entry.
        BadFiltersCase{R"([{"attribute":"brand","anyOf":["A"]},
                           {"attribute":"price","maxx":50}])",
                       "entry 2 {"},
        BadFiltersCase{R"([{"attribute":"price","maxx":50}])", "maxx"},
        // Wrong value types.
        BadFiltersCase{R"([{"attribute":"price","max":"cheap"}])", "entry 1 {"},
        BadFiltersCase{R"([{"attribute":"price","min":[1]}])", "entry 1 {"},
        BadFiltersCase{R"([{"attribute":"brand","anyOf":[7]}])", "entry 1 {"},
        // Booleans and lists spelled as JSON does, not "yes" or a lone value.
        BadFiltersCase{R"([{"attribute":"in_stock","equals":"yes"}])",
                       "entry 1 {\"attribute\":\"in_stock\",\"equals\":\"yes\"}: "
                       "\"equals\" must be true or false"},
        BadFiltersCase{R"([{"attribute":"brand","keep_missing":1}])",
                       "\"keep_missing\" must be true or false"},
        BadFiltersCase{R"([{"attribute":"brand","anyOf":"Acme"}])",
                       "\"anyOf\" must be a JSON array"},
        BadFiltersCase{R"([{"attribute":"brand","none_of":"Acme"}])",
                       "\"none_of\" must be a JSON array"},
        // No attribute.
        BadFiltersCase{R"([{"attribute":"price","max":5}, {"max":50}])",
                       "entry 2 {\"max\":50}: \"attribute\" is missing or empty"},
        BadFiltersCase{R"({"attribute":"","max":50})",
                       "entry 1 {\"attribute\":\"\",\"max\":50}: \"attribute\" "
                       "is missing or empty"}));

}  // namespace
}  // namespace affinity::cli
