#include "trainer/data/text_fields.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

std::vector<std::string> Split(Delimiter d, absl::string_view line,
                               int* count = nullptr) {
  FieldSplitter splitter(d);
  int n = -1;
  EXPECT_TRUE(splitter.Split(line, &n)) << line;
  if (count != nullptr) *count = n;
  std::vector<std::string> out;
  for (int i = 0; i < std::min(n, FieldSplitter::kMaxStoredFields); ++i) {
    out.emplace_back(splitter.field(i));
  }
  return out;
}

TEST(FieldSplitterTest, CommaTrimsSpacesAndKeepsEmptyFields) {
  EXPECT_THAT(Split(Delimiter::kComma, " u1 , i 2 ,3.5,"),
              ::testing::ElementsAre("u1", "i 2", "3.5", ""));
  EXPECT_THAT(Split(Delimiter::kComma, ""), ::testing::ElementsAre(""));
}

TEST(FieldSplitterTest, CommaCountsFieldsBeyondTheStoredOnes) {
  int count = 0;
  EXPECT_THAT(Split(Delimiter::kComma, "a,b,c,d,e,f", &count),
              ::testing::ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(count, 6);
}

TEST(FieldSplitterTest, CsvQuotedFields) {
  EXPECT_THAT(Split(Delimiter::kComma, R"("a,b", "say ""hi""" ,"",x"y)"),
              ::testing::ElementsAre("a,b", "say \"hi\"", "", "x\"y"));
}

TEST(FieldSplitterTest, CsvBadQuoting) {
  FieldSplitter splitter(Delimiter::kComma);
  int n = 0;
  EXPECT_FALSE(splitter.Split(R"(a,"open)", &n));
  EXPECT_THAT(std::string(splitter.quote_error()),
              ::testing::StartsWith("unterminated quoted field, expected"));
  EXPECT_FALSE(splitter.Split(R"("a"b,c)", &n));
  EXPECT_THAT(std::string(splitter.quote_error()),
              ::testing::StartsWith("text after a closing quote, expected"));
}

TEST(FieldSplitterTest, TabKeepsSpacesInsideAndCommas) {
  EXPECT_THAT(Split(Delimiter::kTab, "user a\titem,b\t 3 \t"),
              ::testing::ElementsAre("user a", "item,b", "3", ""));
}

TEST(FieldSplitterTest, WhitespaceSplitsOnRuns) {
  int count = 0;
  EXPECT_THAT(
      Split(Delimiter::kWhitespace, "  196\t242  3 \t881250949 ", &count),
      ::testing::ElementsAre("196", "242", "3", "881250949"));
  EXPECT_EQ(count, 4);
  Split(Delimiter::kWhitespace, "   ", &count);
  EXPECT_EQ(count, 0);
}

TEST(FieldSplitterTest, DoubleColon) {
  EXPECT_THAT(Split(Delimiter::kDoubleColon, "1::1193::5::978300760"),
              ::testing::ElementsAre("1", "1193", "5", "978300760"));
  EXPECT_THAT(Split(Delimiter::kDoubleColon, "a:b::c"),
              ::testing::ElementsAre("a:b", "c"));
}

TEST(ParseWeightTest, AcceptsFiniteNonNegativeNumbers) {
  const std::vector<std::pair<std::string, float>> cases = {
      {"0", 0.0f},
      {"3", 3.0f},
      {"4.0", 4.0f},
      {"2.5", 2.5f},
      {".5", 0.5f},
      {"1.", 1.0f},
      {"+7", 7.0f},
      {"1e3", 1000.0f},
      {"2.5E-1", 0.25f},
      {"-0", 0.0f},
      {"123456789", 123456789.0f},
      {"0.1", 0.1f},
      {"1e-60", 0.0f},
      {"3.4e38", 3.4e38f}};
  for (const auto& [text, expected] : cases) {
    float v = -1;
    EXPECT_EQ(ParseWeight(text, &v), NumberStatus::kOk) << text;
    EXPECT_EQ(v, expected) << text;
    EXPECT_FALSE(std::signbit(v)) << text;
  }
}

TEST(ParseWeightTest, RejectsBadWeights) {
  float v = 0;
  for (const char* text :
       {"", "abc", "1,5", "3x", "0x10", " 3", "--1", "+-1", "."}) {
    EXPECT_EQ(ParseWeight(text, &v), NumberStatus::kNotANumber) << text;
  }
  for (const char* text : {"-1", "-0.5", "-1e400"}) {
    EXPECT_EQ(ParseWeight(text, &v), NumberStatus::kNegative) << text;
  }
  for (const char* text : {"nan", "NaN", "inf", "infinity", "1e39", "1e400"}) {
    EXPECT_EQ(ParseWeight(text, &v), NumberStatus::kNotFinite) << text;
  }
}

TEST(ParseTimestampTest, AcceptsNonNegativeIntegers) {
  int64_t t = -1;
  EXPECT_EQ(ParseTimestamp("881250949", &t), NumberStatus::kOk);
  EXPECT_EQ(t, 881250949);
  EXPECT_EQ(ParseTimestamp("0", &t), NumberStatus::kOk);
  EXPECT_EQ(t, 0);
  EXPECT_EQ(ParseTimestamp("9223372036854775807", &t), NumberStatus::kOk);
  EXPECT_EQ(t, INT64_MAX);
}

TEST(ParseTimestampTest, RejectsBadTimestamps) {
  int64_t t = 0;
  for (const char* text : {"", "-", "12.5", "1e9", "abc", "2020-01-01"}) {
    EXPECT_EQ(ParseTimestamp(text, &t), NumberStatus::kNotANumber) << text;
  }
  EXPECT_EQ(ParseTimestamp("-5", &t), NumberStatus::kNegative);
  EXPECT_EQ(ParseTimestamp("9223372036854775808", &t),
            NumberStatus::kNotFinite);
}

TEST(LooksNumericTest, Classifies) {
  EXPECT_TRUE(LooksNumeric("3"));
  EXPECT_TRUE(LooksNumeric("-3.5"));
  EXPECT_TRUE(LooksNumeric("nan"));
  EXPECT_FALSE(LooksNumeric("rating"));
  EXPECT_FALSE(LooksNumeric(""));
}

}  // namespace
}  // namespace affinity
