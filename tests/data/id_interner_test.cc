#include "trainer/data/id_interner.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

TEST(IdInternerTest, AssignsIndicesInFirstSeenOrder) {
  IdInterner ids;
  EXPECT_EQ(ids.Intern("b"), 0u);
  EXPECT_EQ(ids.Intern("a"), 1u);
  EXPECT_EQ(ids.Intern("b"), 0u);
  EXPECT_EQ(ids.Intern("42"), 2u);
  EXPECT_EQ(ids.Intern("a"), 1u);
  EXPECT_EQ(ids.Intern("42"), 2u);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.Find("a"), 1u);
  EXPECT_EQ(ids.Find("42"), 2u);
  EXPECT_EQ(ids.Find("c"), std::nullopt);
  EXPECT_EQ(ids.Find("43"), std::nullopt);
  EXPECT_THAT(ids.TakeIds(), ::testing::ElementsAre("b", "a", "42"));
  EXPECT_EQ(ids.size(), 0u);
}

TEST(IdInternerTest, NumericLookingIdsWithDifferentSpellingsAreDistinct) {
  IdInterner ids;
  const std::vector<std::string> spellings = {
      "7", "07", "007",     "+7",      "7.0",      "-7",
      "0", "00", "4194303", "4194304", "99999999", "12345678901234567890"};
  for (size_t i = 0; i < spellings.size(); ++i) {
    EXPECT_EQ(ids.Intern(spellings[i]), i) << spellings[i];
  }
  for (size_t i = 0; i < spellings.size(); ++i) {
    EXPECT_EQ(ids.Intern(spellings[i]), i) << spellings[i];
  }
  EXPECT_THAT(ids.TakeIds(), ::testing::ElementsAreArray(spellings));
}

TEST(IdInternerTest, ManyIdsRoundTrip) {
  IdInterner ids;
  std::vector<std::string> expected;
  for (int i = 0; i < 20000; ++i) {
    // Interleave numeric and textual ids, numbers in scattered order.
    expected.push_back(i % 2 == 0 ? absl::StrCat((i * 7919) % 100003)
                                  : absl::StrCat("id-", i));
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(ids.Intern(expected[i]), i);
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(ids.Intern(expected[i]), i);
    ASSERT_EQ(ids.id(static_cast<uint32_t>(i)), expected[i]);
  }
  EXPECT_EQ(ids.TakeIds(), expected);
}

TEST(IdInternerTest, LongIdsAreStored) {
  IdInterner ids;
  const std::string long_id(1 << 20, 'x');
  EXPECT_EQ(ids.Intern("short"), 0u);
  EXPECT_EQ(ids.Intern(long_id), 1u);
  EXPECT_EQ(ids.Intern(long_id), 1u);
  EXPECT_EQ(ids.Intern(""), 2u);
  EXPECT_EQ(ids.TakeIds()[1], long_id);
}

}  // namespace
}  // namespace affinity
