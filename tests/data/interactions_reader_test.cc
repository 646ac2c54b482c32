#include "trainer/data/interactions_reader.h"

#include <zlib.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace affinity {
namespace {

using ::affinity::testing::MissingTempPath;
using ::affinity::testing::WriteTempFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// (user id, item id) -> value, read back through the id vectors.
std::map<std::pair<std::string, std::string>, float> ById(
    const Interactions& data) {
  std::map<std::pair<std::string, std::string>, float> out;
  for (int64_t u = 0; u < data.matrix.rows(); ++u) {
    const CsrMatrix::Row row = data.matrix.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      out[{data.user_ids[u], data.item_ids[row.indices[k]]}] = row.values[k];
    }
  }
  return out;
}

// Timestamp of (user, item), or -1.
int64_t TimestampOf(const Interactions& data, const std::string& user,
                    const std::string& item) {
  for (int64_t u = 0; u < data.matrix.rows(); ++u) {
    if (data.user_ids[u] != user) continue;
    for (int64_t k = data.matrix.indptr()[u]; k < data.matrix.indptr()[u + 1];
         ++k) {
      if (data.item_ids[data.matrix.indices()[k]] == item) {
        return data.timestamps[k];
      }
    }
  }
  return -1;
}

absl::Status ReadError(const std::string& name, const std::string& contents,
                       InteractionReaderOptions options = {}) {
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile(name, contents), options);
  return r.ok() ? absl::OkStatus() : r.status();
}

// --- well-formed inputs -----------------------------------------------------

TEST(ReadInteractionsTest, CsvWithHeaderInternsInFirstSeenOrder) {
  const std::string contents = "user,item,weight\nu2,b,1\nu1,a,2.5\nu2,a,3\n";
  const std::string path = WriteTempFile("basic.csv", contents);
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("u2", "u1"));
  EXPECT_THAT(r->item_ids, ElementsAre("b", "a"));
  EXPECT_EQ(r->matrix.rows(), 2);
  EXPECT_EQ(r->matrix.cols(), 2);
  EXPECT_THAT(r->matrix.indptr(), ElementsAre(0, 2, 3));
  EXPECT_THAT(r->matrix.indices(), ElementsAre(0, 1, 1));
  EXPECT_THAT(r->matrix.values(), ElementsAre(1.0f, 3.0f, 2.5f));
  EXPECT_THAT(r->timestamps, IsEmpty());
  const InteractionStats& s = r->stats;
  EXPECT_TRUE(s.has_header);
  EXPECT_EQ(s.columns, 3);
  EXPECT_EQ(s.delimiter, "comma");
  EXPECT_EQ(s.lines_read, 4);
  EXPECT_EQ(s.rows_read, 3);
  EXPECT_EQ(s.rows_skipped, 0);
  EXPECT_EQ(s.bytes_read, static_cast<int64_t>(contents.size()));
  EXPECT_EQ(s.crc32, static_cast<uint32_t>(crc32(
                         0L, reinterpret_cast<const Bytef*>(contents.data()),
                         contents.size())));
}

TEST(ReadInteractionsTest, HeaderlessCsvAndMissingWeightMeansOne) {
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile("pairs.csv", "10,20\n11,20\n10,21\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stats.has_header);
  EXPECT_EQ(r->stats.columns, 2);
  EXPECT_EQ(
      ById(*r),
      (std::map<std::pair<std::string, std::string>, float>{
          {{"10", "20"}, 1.0f}, {{"11", "20"}, 1.0f}, {{"10", "21"}, 1.0f}}));
}

TEST(ReadInteractionsTest, HeaderDetectedFromNonNumericWeightColumn) {
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("custom_header.csv", "who,what,how_much\na,x,2\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("a"));
}

TEST(ReadInteractionsTest, HeaderDetectedFromKnownNamesWithoutWeight) {
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("named.csv", "User_ID,Item_ID\na,x\nb,y\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("a", "b"));
}

TEST(ReadInteractionsTest, FirstRowWithNumericFieldsIsData) {
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("nohdr.csv", "alice,book,4\nbob,book,2\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("alice", "bob"));
}

TEST(ReadInteractionsTest, HeaderModeOverridesDetection) {
  InteractionReaderOptions options;
  options.header = HeaderMode::kPresent;
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile("forced.csv", "1,2,3\n4,5,6\n"), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("4"));
  options.header = HeaderMode::kAbsent;
  absl::Status s = ReadError("absent.csv", "user,item\n", options);
  // "user,item" read as a data row is fine: ids are strings.
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ReadInteractionsTest, TsvWithSpacesInIds) {
  absl::StatusOr<Interactions> r = ReadInteractions(WriteTempFile(
      "spaces.tsv", "user\titem\tweight\njohn doe\tred shoes\t2\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.delimiter, "tab");
  EXPECT_THAT(r->user_ids, ElementsAre("john doe"));
  EXPECT_THAT(r->item_ids, ElementsAre("red shoes"));
}

TEST(ReadInteractionsTest, MovieLensUData) {
  InteractionReaderOptions options;
  options.format = InteractionFormat::kMovieLens;
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("u.data",
                    "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
                    "196\t302\t1\t878887116\n"),
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stats.has_header);
  EXPECT_EQ(r->stats.columns, 4);
  EXPECT_EQ(r->stats.delimiter, "tab");
  EXPECT_THAT(r->user_ids, ElementsAre("196", "186"));
  EXPECT_THAT(r->item_ids, ElementsAre("242", "302"));
  ASSERT_EQ(r->timestamps.size(), 3u);
  EXPECT_EQ(TimestampOf(*r, "196", "242"), 881250949);
  EXPECT_EQ(TimestampOf(*r, "186", "302"), 891717742);
  EXPECT_EQ(TimestampOf(*r, "196", "302"), 878887116);
}

TEST(ReadInteractionsTest, MovieLensRatingsCsvWithCrlf) {
  InteractionReaderOptions options;
  options.format = InteractionFormat::kMovieLens;
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("ratings.csv",
                    "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n"
                    "1,3,4.5,964981247\r\n2,1,0.5,964982224\r\n"),
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stats.has_header);
  EXPECT_EQ(r->stats.delimiter, "comma");
  EXPECT_EQ(ById(*r),
            (std::map<std::pair<std::string, std::string>, float>{
                {{"1", "1"}, 4.0f}, {{"1", "3"}, 4.5f}, {{"2", "1"}, 0.5f}}));
  EXPECT_EQ(TimestampOf(*r, "1", "3"), 964981247);
}

TEST(ReadInteractionsTest, MovieLensRatingsDat) {
  InteractionReaderOptions options;
  options.format = InteractionFormat::kMovieLens;
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("ratings.dat",
                    "1::1193::5::978300760\n2::1193::3::978300761\n"),
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.delimiter, "'::'");
  EXPECT_EQ(r->matrix.nnz(), 2);
}

TEST(ReadInteractionsTest, MovieLensNeedsFourFields) {
  InteractionReaderOptions options;
  options.format = InteractionFormat::kMovieLens;
  const std::string path = WriteTempFile("short.data", "1\t2\t3\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ":1: missing field: row has 3 fields, expected "
                               "4 fields (user,item,rating,timestamp)"));
}

TEST(ReadInteractionsTest, AutoDetectsWhitespaceSeparatedFiles) {
  absl::StatusOr<Interactions> r = ReadInteractions(WriteTempFile(
      "ratings_0.txt", "1050 215 3\r\n1050  250 2\r\n\r\n  1051 215 2.5\r\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.delimiter, "whitespace");
  EXPECT_EQ(r->stats.lines_read, 4);
  EXPECT_EQ(r->stats.rows_read, 3);
  EXPECT_EQ(ById(*r), (std::map<std::pair<std::string, std::string>, float>{
                          {{"1050", "215"}, 3.0f},
                          {{"1050", "250"}, 2.0f},
                          {{"1051", "215"}, 2.5f}}));
}

TEST(ReadInteractionsTest, ExplicitFormatOverridesExtension) {
  InteractionReaderOptions options;
  options.format = InteractionFormat::kTsv;
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile("tabbed.csv", "a,b\tx\n"), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("a,b"));
}

TEST(ReadInteractionsTest, QuotedCsvIds) {
  absl::StatusOr<Interactions> r = ReadInteractions(WriteTempFile(
      "quoted.csv", "user,item\n\"Smith, J.\",\"The \"\"Best\"\" Book\"\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("Smith, J."));
  EXPECT_THAT(r->item_ids, ElementsAre("The \"Best\" Book"));
}

TEST(ReadInteractionsTest, DuplicatesAreSummedThenTransformed) {
  const std::string contents =
      "user,item,weight,timestamp\n"
      "u,a,1,100\n"
      "u,b,0,50\n"
      "u,a,2,300\n"
      "v,a,0.5,10\n"
      "u,a,4,200\n";
  const std::string path = WriteTempFile("dups.csv", contents);

  absl::StatusOr<Interactions> raw = ReadInteractions(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->matrix.nnz(), 3);
  EXPECT_EQ(raw->stats.duplicates_merged, 2);
  EXPECT_EQ(raw->stats.rows_read, 5);
  EXPECT_EQ(ById(*raw),
            (std::map<std::pair<std::string, std::string>, float>{
                {{"u", "a"}, 7.0f}, {{"u", "b"}, 0.0f}, {{"v", "a"}, 0.5f}}));
  EXPECT_EQ(TimestampOf(*raw, "u", "a"), 300);
  EXPECT_EQ(TimestampOf(*raw, "u", "b"), 50);

  InteractionReaderOptions options;
  options.weight_transform = WeightTransform::kLog1p;
  absl::StatusOr<Interactions> logged = ReadInteractions(path, options);
  ASSERT_TRUE(logged.ok());
  auto values = ById(*logged);
  EXPECT_FLOAT_EQ((values[{"u", "a"}]), std::log1p(7.0f));
  EXPECT_FLOAT_EQ((values[{"u", "b"}]), 0.0f);
  EXPECT_FLOAT_EQ((values[{"v", "a"}]), std::log1p(0.5f));

  options.weight_transform = WeightTransform::kBinary;
  absl::StatusOr<Interactions> binary = ReadInteractions(path, options);
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(ById(*binary),
            (std::map<std::pair<std::string, std::string>, float>{
                {{"u", "a"}, 1.0f}, {{"u", "b"}, 0.0f}, {{"v", "a"}, 1.0f}}));
}

TEST(ReadInteractionsTest, RowsCrossingTheReadBufferAreIntact) {
  std::string contents = "user,item,weight\n";
  std::map<std::pair<std::string, std::string>, float> expected;
  for (int i = 0; i < 3000; ++i) {
    const std::string u = absl::StrCat("user-", i % 97);
    const std::string it = absl::StrCat("item_", (i * 31) % 1009);
    absl::StrAppend(&contents, u, ",", it, ",", i % 5, "\n");
    expected[{u, it}] += static_cast<float>(i % 5);
  }
  InteractionReaderOptions options;
  options.buffer_bytes = 256;
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile("many.csv", contents), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ById(*r), expected);
  EXPECT_EQ(r->stats.rows_read, 3000);
}

TEST(ReadInteractionsTest, LargeUserGroupedFileMatchesReference) {
  // Grouped by user (the fast path, sized from the file after the first
  // rows), with user ids growing longer, duplicates and a late return of an
  // earlier user (which ends the grouped order).
  std::string contents = "user,item,weight,timestamp\n";
  std::map<std::pair<std::string, std::string>, float> expected;
  std::map<std::pair<std::string, std::string>, int64_t> latest;
  auto add = [&](const std::string& u, const std::string& it, int w,
                 int64_t t) {
    absl::StrAppend(&contents, u, ",", it, ",", w, ",", t, "\n");
    expected[{u, it}] += static_cast<float>(w);
    latest[{u, it}] = std::max(latest[{u, it}], t);
  };
  for (int i = 0; i < 40000; ++i) {
    add(absl::StrCat(i / 7), absl::StrCat("item", (i * 7919) % 3001), i % 4,
        1000 + i % 13);
  }
  add("3", "item5", 2, 99999);
  add("zz-late", "item5", 1, 5);
  absl::StatusOr<Interactions> r =
      ReadInteractions(WriteTempFile("grouped.csv", contents));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ById(*r), expected);
  for (const auto& [key, t] : latest) {
    ASSERT_EQ(TimestampOf(*r, key.first, key.second), t);
  }
  EXPECT_EQ(r->matrix.MemoryBytes(),
            (r->matrix.rows() + 1) * 8 + r->matrix.nnz() * 8);
}

// --- malformed rows: one test per class, the error names FILE:LINE ---------

struct BadRowCase {
  std::string name;
  std::string contents;
  int line;
  std::string message;
};

class BadRowTest : public ::testing::TestWithParam<BadRowCase> {};

TEST_P(BadRowTest, FailsWithFileLineAndExpectation) {
  const BadRowCase& c = GetParam();
  const std::string path = WriteTempFile(c.name + ".csv", c.contents);
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat(path, ":", c.line, ": ", c.message)));
  EXPECT_THAT(r.status().message(), HasSubstr("expected"));
}

TEST_P(BadRowTest, SkipModeDropsOnlyTheBadRow) {
  const BadRowCase& c = GetParam();
  const std::string path = WriteTempFile(c.name + "_skip.csv", c.contents);
  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows_skipped, 1);
  EXPECT_EQ(r->matrix.nnz(), r->stats.rows_read - 1);
  ASSERT_EQ(r->stats.skipped_by_reason.size(), 1u);
  EXPECT_EQ(r->stats.skipped_by_reason.begin()->second, 1);
  ASSERT_EQ(r->stats.error_samples.size(), 1u);
  EXPECT_THAT(r->stats.error_samples[0],
              HasSubstr(absl::StrCat(path, ":", c.line, ": ", c.message)));
}

INSTANTIATE_TEST_SUITE_P(
    AllClasses, BadRowTest,
    ::testing::Values(
        BadRowCase{"missing_field", "user,item,weight\na,x,1\nb,y\nc,z,2\n", 3,
                   "missing field: row has 2 fields, expected 3 fields "
                   "(user,item,weight)"},
        BadRowCase{"too_many", "a,x,1\nb,y,1,5,9\nc,z,2\n", 2,
                   "too many fields: row has 5 fields, expected 3 fields"},
        BadRowCase{"non_numeric", "user,item,weight\na,x,1\nb,y,lots\n", 3,
                   "weight 'lots' is not a number, expected a finite number "
                   ">= 0"},
        BadRowCase{"negative", "a,x,1\nb,y,-2\nc,z,3\n", 2,
                   "weight '-2' is negative"},
        BadRowCase{"nan", "a,x,1\nb,y,NaN\nc,z,3\n", 2,
                   "weight 'NaN' is not finite"},
        BadRowCase{"inf", "a,x,1\nc,z,3\nb,y,inf\n", 3,
                   "weight 'inf' is not finite"},
        BadRowCase{"huge", "a,x,1\nb,y,1e300\n", 2,
                   "weight '1e300' is not finite"},
        BadRowCase{"bad_ts", "u,i,w,t\na,x,1,5\nb,y,1,yesterday\n", 3,
                   "timestamp 'yesterday' is not an integer, expected an "
                   "integer >= 0"},
        BadRowCase{"negative_ts", "a,x,1,5\nb,y,1,-7\n", 2,
                   "timestamp '-7' is negative"},
        BadRowCase{"fraction_ts", "a,x,1,5\nb,y,1,7.5\n", 2,
                   "timestamp '7.5' is not an integer"},
        BadRowCase{"empty_user", "a,x,1\n,y,1\n", 2,
                   "empty user id, expected a non-empty string"},
        BadRowCase{"empty_item", "a,x\nb, \n", 2, "empty item id"},
        BadRowCase{"long_id", "a,x\n" + std::string(300, 'u') + ",y\n", 2,
                   "user id '" + std::string(40, 'u') +
                       "...' is 300 bytes long, expected at most "
                       "256 bytes"},
        BadRowCase{"bad_quote", "a,x\n\"b,y\n", 2,
                   "unterminated quoted field, expected a closing '\"'"},
        BadRowCase{"text_after_quote", "a,x\n\"b\"c,y\n", 2,
                   "text after a closing quote, expected a comma or the end "
                   "of the line"},
        BadRowCase{"one_field", "a,x\nlonely\n", 2,
                   "missing field: row has 1 field, expected 2 fields "
                   "(user,item)"},
        BadRowCase{"latin1_user", "a,x\ncaf\xE9,y\nb,z\n", 2,
                   "user id 'caf\\xe9' is not valid UTF-8 (byte 0xE9 at "
                   "offset 3), expected valid UTF-8"},
        BadRowCase{"latin1_item", "a,x,1\nb,na\xEFve,2\nc,z,3\n", 2,
                   "item id 'na\\xefve' is not valid UTF-8 (byte 0xEF at "
                   "offset 2), expected valid UTF-8"},
        BadRowCase{"surrogate", "a,x\n\"\xED\xA0\x80\",y\n", 2,
                   "user id '\\xed\\xa0\\x80' is not valid UTF-8 (byte 0xED "
                   "at offset 0), expected valid UTF-8"},
        BadRowCase{"truncated", "a,x\nb,\xE2\x82\n", 2,
                   "item id '\\xe2\\x82' is not valid UTF-8 (byte 0xE2 at "
                   "offset 0), expected valid UTF-8"},
        BadRowCase{"nul_in_id", std::string("a,x\nb\0z,y\nd,z\n", 14), 2,
                   "user id 'b\\x00z' contains a NUL byte (offset 1), "
                   "expected an id without NUL bytes"}),
    [](const ::testing::TestParamInfo<BadRowCase>& info) {
      return info.param.name;
    });

TEST(ReadInteractionsTest, Utf8IdsAreKept) {
  absl::StatusOr<Interactions> r = ReadInteractions(WriteTempFile(
      "utf8.csv",
      "user,item\ncaf\xC3\xA9,\xE2\x82\xAC" "5\n\xF0\x9F\x8E\xAC,x\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("caf\xC3\xA9", "\xF0\x9F\x8E\xAC"));
  EXPECT_THAT(r->item_ids, ElementsAre("\xE2\x82\xAC" "5", "x"));
}

TEST(ReadInteractionsTest, ByteOrderMarkIsNotPartOfTheFirstLine) {
  // With a header: the BOM would hide the known column name "user" and
  // make the header a data row.
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("bom_header.csv", "\xEF\xBB\xBFuser,item\na,x\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("a"));

  // Without one: the first id.
  r = ReadInteractions(
      WriteTempFile("bom_data.tsv", "\xEF\xBB\xBF" "7\t8\n9\t8\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("7", "9"));
  EXPECT_EQ(r->stats.delimiter, "tab");

  // MovieLens ratings.csv saved by a Windows editor.
  InteractionReaderOptions options;
  options.format = InteractionFormat::kMovieLens;
  r = ReadInteractions(
      WriteTempFile("ratings.csv", "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n"
                                   "1,31,2.5,1260759144\r\n"),
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stats.has_header);
  EXPECT_THAT(r->user_ids, ElementsAre("1"));

  // Only at the start of the file.
  const std::string path =
      WriteTempFile("bom_late.csv", "a,x\n\xEF\xBB\xBF" "b,y\n");
  r = ReadInteractions(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->user_ids, ElementsAre("a", "\xEF\xBB\xBF" "b"));
}

TEST(ReadInteractionsTest, Windows1252FileIsRejectedOrSkippedRowByRow) {
  // "Jos\xe9" and "Z\xfcrich" in Windows-1252 / Latin-1.
  const std::string contents =
      "user,item,weight\nann,x,1\nJos\xE9,y,2\nbob,Z\xFCrich,1\nbob,x,3\n";
  const std::string path = WriteTempFile("cp1252.csv", contents);
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ":3: user id 'Jos\\xe9' is not valid UTF-8"));
  EXPECT_THAT(r.status().message(), HasSubstr("iconv -f WINDOWS-1252 -t UTF-8"));

  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  r = ReadInteractions(path, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows_skipped, 2);
  EXPECT_THAT(r->user_ids, ElementsAre("ann", "bob"));
  EXPECT_THAT(r->item_ids, ElementsAre("x"));
  ASSERT_EQ(r->stats.error_samples.size(), 2u);
  EXPECT_THAT(r->stats.error_samples[1],
              HasSubstr(path + ":4: item id 'Z\\xfcrich' is not valid UTF-8"));
}

TEST(ReadInteractionsTest, MaxIdLengthOption) {
  InteractionReaderOptions options;
  options.max_id_length = 3;
  const std::string path = WriteTempFile("idlen.csv", "abc,x\nabcd,y\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ":2: user id 'abcd' is 4 bytes long, expected "
                               "at most 3 bytes"));
}

TEST(ReadInteractionsTest, FirstRowFixesTheFieldCount) {
  const std::string path = WriteTempFile("counts.csv", "a,x\nb,y,3\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ":2: too many fields: row has 3 fields, "
                               "expected 2 fields (user,item)"));
}

TEST(ReadInteractionsTest, SkipModeCountsAndKeepsFirstMessages) {
  std::string contents = "user,item,weight\n";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&contents, "u", i, ",i", i, ",", i % 2 == 0 ? "1" : "x",
                    "\n");
  }
  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  const std::string path = WriteTempFile("skips.csv", contents);
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows_read, 20);
  EXPECT_EQ(r->stats.rows_skipped, 10);
  EXPECT_EQ(r->matrix.nnz(), 10);
  // Skipped rows intern nothing.
  EXPECT_EQ(r->user_ids.size(), 10u);
  ASSERT_EQ(r->stats.error_samples.size(), 5u);
  EXPECT_THAT(r->stats.error_samples[0], HasSubstr(path + ":3: weight 'x'"));
  EXPECT_THAT(r->stats.error_samples[4], HasSubstr(path + ":11: weight 'x'"));

  options.max_errors_shown = 2;
  r = ReadInteractions(path, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.rows_skipped, 10);
  EXPECT_EQ(r->stats.error_samples.size(), 2u);
}

TEST(ReadInteractionsTest, SkipModeCountsRowsPerReason) {
  const std::string contents =
      "user,item,weight,timestamp\n"
      "a,x,1,5\n"
      "b,y,lots,5\n"         // weight not a number
      "c,y,many,5\n"         // weight not a number
      "d,y,-1,5\n"           // negative weight
      "e,y,inf,5\n"          // weight not finite
      "f,y,1,noon\n"         // timestamp not an integer
      "g,y,1,-3\n"           // negative timestamp
      "h,y,1,99999999999999999999\n"  // timestamp too large
      "i,y,1\n"              // missing field
      "j,y,1,5,6\n"          // too many fields
      ",y,1,5\n"             // empty id
      "caf\xE9,y,1,5\n"      // id not valid UTF-8
      "\"k,y,1,5\n"          // bad quoting
      "a,z,2,7\n";
  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  options.max_id_length = 8;
  const std::string path = WriteTempFile(
      "reasons.csv", contents + std::string(9, 'u') + ",y,1,5\n");  // id too long
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows_read, 15);
  EXPECT_EQ(r->stats.rows_skipped, 13);
  const std::map<std::string, int64_t> want = {
      {"weight not a number", 2}, {"negative weight", 1},
      {"weight not finite", 1},   {"timestamp not an integer", 1},
      {"negative timestamp", 1},  {"timestamp too large", 1},
      {"missing field", 1},       {"too many fields", 1},
      {"empty id", 1},            {"id not valid UTF-8", 1},
      {"bad quoting", 1},         {"id too long", 1}};
  EXPECT_EQ(r->stats.skipped_by_reason, want);

  // MovieLens names the weight a rating.
  options.format = InteractionFormat::kMovieLens;
  r = ReadInteractions(WriteTempFile("ml_reasons.csv",
                                     "userId,movieId,rating,timestamp\n"
                                     "1,2,4.5,9\n1,3,good,9\n"),
                       options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.skipped_by_reason,
            (std::map<std::string, int64_t>{{"rating not a number", 1}}));
}

TEST(ReadInteractionsTest, KeepsTheFirstUsedRowsAsParsed) {
  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  options.rows_shown = 3;
  options.weight_transform = WeightTransform::kLog1p;
  absl::StatusOr<Interactions> r = ReadInteractions(
      WriteTempFile("first_rows.csv",
                    "user,item,weight,timestamp\n\n"
                    "a,x,2.5,100\nb,y,bad,7\nb,\"y z\",1,200\na,x,4,300\nc,w,1,400\n"),
      options);
  ASSERT_TRUE(r.ok()) << r.status();
  // Blank and skipped rows are not shown; weights are raw, before merging
  // (a,x: 2.5 + 4) and log1p.
  ASSERT_EQ(r->stats.first_rows.size(), 3u);
  const ParsedRow& first = r->stats.first_rows[0];
  EXPECT_EQ(first.line, 3);
  EXPECT_EQ(first.user, "a");
  EXPECT_EQ(first.item, "x");
  EXPECT_FLOAT_EQ(first.weight, 2.5f);
  EXPECT_EQ(first.timestamp, 100);
  EXPECT_EQ(r->stats.first_rows[1].line, 5);
  EXPECT_EQ(r->stats.first_rows[1].item, "y z");
  EXPECT_EQ(r->stats.first_rows[2].line, 6);
  EXPECT_FLOAT_EQ(r->stats.first_rows[2].weight, 4.0f);

  // Without weight and timestamp columns: weight 1, timestamp 0.
  r = ReadInteractions(WriteTempFile("first_rows2.csv", "p,q\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->stats.first_rows.size(), 1u);
  EXPECT_FLOAT_EQ(r->stats.first_rows[0].weight, 1.0f);
  EXPECT_EQ(r->stats.first_rows[0].timestamp, 0);
}

// --- file-level errors ------------------------------------------------------

TEST(ReadInteractionsTest, MissingFile) {
  const std::string path = MissingTempPath("absent.csv");
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(ReadInteractionsTest, UnreadableFile) {
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  absl::StatusOr<Interactions> r = ReadInteractions(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(dir));
}

TEST(ReadInteractionsTest, EmptyFile) {
  const std::string path = WriteTempFile("empty.csv", "");
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ": file is empty, expected interaction rows"));
}

TEST(ReadInteractionsTest, NoUsableRows) {
  std::string path = WriteTempFile("header_only.csv", "user,item,weight\n\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ": no usable rows (only a header)"));

  path = WriteTempFile("blank.csv", "\n  \n\r\n");
  r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(path + ": no usable rows"));

  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  path = WriteTempFile("all_bad.csv", "a,x,-1\nb,y,zz\n");
  r = ReadInteractions(path, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr(path +
                        ": no usable rows (all 2 data rows were "
                        "malformed; first: " +
                        path + ":1: weight '-1' is negative"));
}

TEST(ReadInteractionsTest, OverlongLineIsFatalEvenWhenSkipping) {
  InteractionReaderOptions options;
  options.on_error = OnError::kSkip;
  options.buffer_bytes = 128;
  const std::string path = WriteTempFile(
      "overlong.csv", "a,x\n" + std::string(1000, 'z') + ",y\nb,y\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(path + ":2: line longer than"));
}

TEST(ReadInteractionsTest, BadHeaderFieldCount) {
  const std::string path =
      WriteTempFile("wide_header.csv", "user,item,weight,timestamp,extra\n");
  absl::StatusOr<Interactions> r = ReadInteractions(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(path + ":1: header has 5 fields, expected 2 to 4"));
}

TEST(ReadInteractionsTest, BinaryGarbageDoesNotCrash) {
  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 1103515245u + 12345u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  for (const OnError mode : {OnError::kFail, OnError::kSkip}) {
    InteractionReaderOptions options;
    options.on_error = mode;
    absl::StatusOr<Interactions> r =
        ReadInteractions(WriteTempFile("garbage.bin", garbage), options);
    if (r.ok()) {
      EXPECT_EQ(
          r->matrix.nnz() + r->stats.rows_skipped + r->stats.duplicates_merged,
          r->stats.rows_read);
    } else {
      EXPECT_THAT(r.status().message(), HasSubstr("garbage.bin"));
    }
  }
}

TEST(ReadInteractionsTest, OptionNameParsers) {
  EXPECT_EQ(*ParseInteractionFormat("movielens"),
            InteractionFormat::kMovieLens);
  EXPECT_EQ(*ParseWeightTransform("log1p"), WeightTransform::kLog1p);
  EXPECT_EQ(*ParseOnError("skip"), OnError::kSkip);
  EXPECT_THAT(ParseInteractionFormat("xml").status().message(),
              HasSubstr("expected auto, csv, tsv, whitespace or movielens"));
  EXPECT_FALSE(ParseWeightTransform("sqrt").ok());
  EXPECT_FALSE(ParseOnError("ignore").ok());
}

}  // namespace
}  // namespace affinity
