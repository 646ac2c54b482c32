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

}  // namespace
}  // namespace affinity::cli
