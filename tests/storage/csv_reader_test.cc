// RFC 4180 splitting: quoting, escaped quotes, embedded line breaks, CRLF,
// blank lines, and errors naming file and line.
#include "storage/csv_reader.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvReaderTest, SplitsQuotedFieldsAndTracksLines) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(
      "\xEF\xBB\xBFid,title\r\n"
      "1,\"Hello, world\"\r\n"
      "\n"
      "2,\"She said \"\"hi\"\"\"\n"
      "3,\"two\nlines\"\n"
      "4,\n"
      "5,last",
      "f.csv");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 6u);
  EXPECT_THAT((*records)[0].fields, ElementsAre("id", "title"));
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_THAT((*records)[1].fields, ElementsAre("1", "Hello, world"));
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_THAT((*records)[2].fields, ElementsAre("2", "She said \"hi\""));
  EXPECT_EQ((*records)[2].line, 4);
  EXPECT_THAT((*records)[3].fields, ElementsAre("3", "two\nlines"));
  EXPECT_EQ((*records)[3].line, 5);
  EXPECT_THAT((*records)[4].fields, ElementsAre("4", ""));
  EXPECT_EQ((*records)[4].line, 7);
  EXPECT_THAT((*records)[5].fields, ElementsAre("5", "last"));
  EXPECT_EQ((*records)[5].line, 8);
}

TEST(CsvReaderTest, UnterminatedQuoteNamesItsLine) {
  absl::StatusOr<std::vector<CsvRecord>> records =
      ParseCsv("a,b\n1,\"open\n2,3\n", "f.csv");
  ASSERT_TRUE(absl::IsInvalidArgument(records.status())) << records.status();
  EXPECT_THAT(records.status().message(), HasSubstr("f.csv:2: unterminated"));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  absl::StatusOr<std::vector<CsvRecord>> records =
      ParseCsv("a,b\n1,2\n3,\"x\"y\n", "f.csv");
  ASSERT_TRUE(absl::IsInvalidArgument(records.status())) << records.status();
  EXPECT_THAT(records.status().message(), HasSubstr("f.csv:3:"));
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsAnError) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv("a,b\n1,x\"y\n", "f.csv");
  ASSERT_TRUE(absl::IsInvalidArgument(records.status())) << records.status();
  EXPECT_THAT(records.status().message(), HasSubstr("f.csv:2:"));
}

}  // namespace
}  // namespace affinity::storage
