// Reading Spark MLlib ALS factor tables: the bundled directories in Spark's
// layout read back exactly, and every kind of malformed row is refused with
// its FILE:LINE.
#include "trainer/import/spark_factors_reader.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTestData[] = "tests/import/testdata/spark_als";

// A fresh directory under TEST_TMPDIR holding `files` (name -> contents).
std::string MakeDir(const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [file, contents] : files) {
    std::FILE* f = std::fopen((dir + "/" + file).c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f == nullptr) continue;
    std::fwrite(contents.data(), 1, contents.size(), f);
    std::fclose(f);
  }
  return dir;
}

std::vector<float> Row(const FactorTable& t, int r) {
  return std::vector<float>(t.factors.row(r).data(),
                            t.factors.row(r).data() + t.factors.cols());
}

constexpr char kGoodPart[] =
    "{\"id\":1,\"features\":[0.5,-1.0]}\n"
    "{\"id\":2,\"features\":[0.25,2.0]}\n";

// The error of reading a directory with kGoodPart as part-00000 and `bad`
// as part-00001.
absl::Status ErrorWithSecondPart(const std::string& name, const std::string& bad) {
  const std::string dir = MakeDir(name, {{"part-00000", kGoodPart}, {"part-00001", bad}});
  absl::StatusOr<FactorTable> table = ReadSparkFactors(dir);
  EXPECT_FALSE(table.ok()) << name;
  return table.ok() ? absl::OkStatus() : table.status();
}

std::string Part(const std::string& name, int index) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name, "/part-0000", index);
}

TEST(SparkFactorsReader, ReadsSparksDirectoryLayoutExactly) {
  // The checksum files Spark writes beside its output are there (and would
  // not parse as JSON if they were read).
  ASSERT_TRUE(std::filesystem::exists(absl::StrCat(kTestData, "/user_factors/._SUCCESS.crc")));
  ASSERT_TRUE(std::filesystem::exists(absl::StrCat(
      kTestData, "/user_factors/.part-00000-5f3c2b7e-8d41-4c09-9a3e-2b1f6c0d7e94-c000.json.crc")));
  absl::StatusOr<FactorTable> users =
      ReadSparkFactors(absl::StrCat(kTestData, "/user_factors"));
  ASSERT_TRUE(users.ok()) << users.status();
  // part-00000 then part-00001, rows in file order; _SUCCESS and the
  // hidden .crc files are not read.
  EXPECT_THAT(users->ids, ElementsAre("3", "1", "4", "10", "2"));
  ASSERT_EQ(users->factors.rows(), 5);
  ASSERT_EQ(users->factors.cols(), 3);
  EXPECT_THAT(Row(*users, 0), ElementsAre(-0.35233447f, -0.6983017f, 0.30186895f));
  EXPECT_THAT(Row(*users, 2), ElementsAre(-0.88400215f, 1.5E-5f, -0.92500865f));
  EXPECT_THAT(Row(*users, 4), ElementsAre(-0.15096162f, 0.6537042f, -0.7523961f));
  ASSERT_EQ(users->files.size(), 2u);
  EXPECT_THAT(users->files[0], HasSubstr("/part-00000-5f3c2b7e"));
  EXPECT_THAT(users->files[1], HasSubstr("/part-00001-5f3c2b7e"));

  absl::StatusOr<FactorTable> items =
      ReadSparkFactors(absl::StrCat(kTestData, "/item_factors"));
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(items->ids, ElementsAre("100", "101", "102", "103", "104", "105"));
  EXPECT_THAT(Row(*items, 4), ElementsAre(0.6322527f, -0.63854724f, -2.5E7f));
  EXPECT_THAT(Row(*items, 5), ElementsAre(0.27782694f, -0.25520492f, 0.09548893f));
}

TEST(SparkFactorsReader, ReadsOneFileStringIdsBlankAndEmptyParts) {
  const std::string dir = MakeDir(
      "strings", {{"part-00000", ""},  // an empty partition
                  {"part-00001",
                   "\n{\"id\":\"sku-9\",\"features\":[1,2]}\r\n  \n"
                   "{\"id\":\"caf\\u00e9\",\"features\":[-0.0,3e-3],\"extra\":true}\n"
                   "{\"id\":7,\"features\":[1e2,4]}"},  // no final newline
                  {"_SUCCESS", ""},
                  {".part-00001.crc", "crc"},
                  {"part-00002.crc", "not json"}});
  absl::StatusOr<FactorTable> table = ReadSparkFactors(dir);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->ids, ElementsAre("sku-9", "caf\xc3\xa9", "7"));
  EXPECT_THAT(Row(*table, 1), ElementsAre(-0.0f, 3e-3f));
  EXPECT_THAT(Row(*table, 2), ElementsAre(100.0f, 4.0f));
  EXPECT_EQ(table->files.size(), 2u);

  absl::StatusOr<FactorTable> one = ReadSparkFactors(dir + "/part-00001");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->ids.size(), 3u);
  EXPECT_THAT(one->files, ElementsAre(dir + "/part-00001"));
}

TEST(SparkFactorsReader, MissingFeatures) {
  absl::Status s = ErrorWithSecondPart("nofeatures", "{\"id\":3}\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(Part("nofeatures", 1) + ":1: missing \"features\", expected"));
  s = ErrorWithSecondPart("noid", "{\"id\":3,\"features\":[1,1]}\n{\"features\":[1,2]}\n");
  EXPECT_THAT(s.message(), HasSubstr(Part("noid", 1) + ":2: missing \"id\", expected"));
  s = ErrorWithSecondPart("notarray", "{\"id\":3,\"features\":\"1,2\"}\n");
  EXPECT_THAT(s.message(), HasSubstr(":1: \"features\" is a string, expected an array of numbers"));
  s = ErrorWithSecondPart("notnumber", "{\"id\":3,\"features\":[1,true]}\n");
  EXPECT_THAT(s.message(), HasSubstr(":1: features[1] is a boolean, expected a number"));
  s = ErrorWithSecondPart("emptyfeatures", "{\"id\":3,\"features\":[]}\n");
  EXPECT_THAT(s.message(), HasSubstr(":1: \"features\" is empty, expected at least one"));
}

TEST(SparkFactorsReader, RaggedDimsNameTheFirstRow) {
  absl::Status s = ErrorWithSecondPart(
      "ragged", "{\"id\":3,\"features\":[1,2]}\n\n{\"id\":4,\"features\":[1,2,3]}\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat(Part("ragged", 1), ":3: 3 features, expected 2 like the "
                                     "first row (", Part("ragged", 0), ":1)")));
}

TEST(SparkFactorsReader, NonFiniteValuesHoweverWritten) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"NaN", "non-finite value NaN"},
      {"-Infinity", "non-finite value -Infinity"},
      {"Infinity", "non-finite value Infinity"},
      {"nan", "non-finite value nan"},
      {"inf", "non-finite value inf"},
      {"\"NaN\"", "non-finite value \"NaN\""},  // how Spark's writer quotes it
      {"\"Infinity\"", "non-finite value \"Infinity\""},
      {"\"-Infinity\"", "non-finite value \"-Infinity\""},
      {"1e999", "value 1e999 is out of range"},
      {"1e39", "1e+39 is not finite as float32"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string name = absl::StrCat("nonfinite", i);
    absl::Status s = ErrorWithSecondPart(
        name, absl::StrCat("{\"id\":3,\"features\":[1,1]}\n{\"id\":4,\"features\":[0.5,",
                           cases[i].first, "]}\n"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << cases[i].first;
    EXPECT_THAT(s.message(), HasSubstr(absl::StrCat(Part(name, 1), ":2: ")))
        << cases[i].first;
    EXPECT_THAT(s.message(), HasSubstr(cases[i].second)) << cases[i].first;
    EXPECT_THAT(s.message(), HasSubstr("expected finite numbers")) << cases[i].first;
  }
}

TEST(SparkFactorsReader, DuplicateIdNamesTheFirstOccurrence) {
  absl::Status s = ErrorWithSecondPart("dup", "{\"id\":3,\"features\":[1,1]}\n"
                                              "{\"id\":2,\"features\":[1,1]}\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat(Part("dup", 1), ":2: duplicate id '2', expected each id "
                                     "once (first at ", Part("dup", 0), ":2)")));
  // A string id equal to an integer id is the same id.
  s = ErrorWithSecondPart("dupstring", "{\"id\":\"1\",\"features\":[1,1]}\n");
  EXPECT_THAT(s.message(), HasSubstr(":1: duplicate id '1'"));
}

TEST(SparkFactorsReader, TruncatedAndNonObjectLines) {
  absl::Status s =
      ErrorWithSecondPart("truncated", "{\"id\":3,\"features\":[1,1]}\n{\"id\":4,\"feat");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(Part("truncated", 1) + ":2: malformed or truncated JSON"));
  EXPECT_THAT(s.message(), HasSubstr("expected one {\"id\": ..., \"features\": [...]} object"));
  s = ErrorWithSecondPart("cut", "{\"id\":4,\"features\":[0.1,\n");
  EXPECT_THAT(s.message(), HasSubstr(Part("cut", 1) + ":1: malformed or truncated JSON"));
  s = ErrorWithSecondPart("array", "[4, [1, 2]]\n");
  EXPECT_THAT(s.message(), HasSubstr(Part("array", 1) + ":1: not a JSON object"));
  s = ErrorWithSecondPart("csv", "4,1.0,2.0\n");
  EXPECT_THAT(s.message(), HasSubstr(Part("csv", 1) + ":1: not a JSON object"));
}

TEST(SparkFactorsReader, FirstErrorInFileOrderWins) {
  // Files are parsed concurrently; the error is the one reading them in
  // order meets first.
  const std::string good = "{\"id\":10,\"features\":[1,1]}\n";
  const std::string nan = "{\"id\":11,\"features\":[1,1]}\n{\"id\":12,\"features\":[NaN,1]}\n";
  const std::string dup = "{\"id\":13,\"features\":[1,1]}\n{\"id\":10,\"features\":[1,1]}\n";
  const std::string cut = "{\"id\":14,\"feat\n";
  std::string dir = MakeDir("order1", {{"part-00000", good}, {"part-00001", nan},
                                       {"part-00002", dup}, {"part-00003", cut}});
  absl::StatusOr<FactorTable> t = ReadSparkFactors(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr(dir + "/part-00001:2: non-finite value NaN"));
  dir = MakeDir("order2", {{"part-00000", good}, {"part-00001", good + "\n"},
                           {"part-00002", dup}, {"part-00003", cut}});
  t = ReadSparkFactors(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr(dir + "/part-00001:1: duplicate id '10', expected each id once "
                              "(first at " + dir + "/part-00000:1)"));
  dir = MakeDir("order3", {{"part-00000", good}, {"part-00001", cut}, {"part-00002", dup}});
  t = ReadSparkFactors(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr(dir + "/part-00001:1: malformed or truncated JSON"));
  // A file whose rows all have the other length: named at its first row.
  dir = MakeDir("order4", {{"part-00000", good}, {"part-00001", "{\"id\":3,\"features\":[1,2,3]}\n"}});
  t = ReadSparkFactors(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr(dir + "/part-00001:1: 3 features, expected 2 like the first row (" +
                        dir + "/part-00000:1)"));
}

TEST(SparkFactorsReader, BadIds) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"\"", "empty string id, expected a non-empty id"},
      {absl::StrCat("\"", std::string(257, 'x'), "\""), "id of 257 bytes, expected at most 256"},
      {"1.5", "id 1.5 is not an integer"},
      {"9007199254740993", "id 9007199254740992 is too large, expected an integer of magnitude below 2^53"},
      {"null", "id is null, expected an integer or non-empty string id"},
      {"[1]", "id is an array, expected"},
      {"\"\\ud800\"", "malformed or truncated JSON"},  // lone surrogate: not UTF-8
      {"\"\xff\xfe\"", "malformed or truncated JSON"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string name = absl::StrCat("badid", i);
    absl::Status s = ErrorWithSecondPart(
        name, absl::StrCat("{\"id\":", cases[i].first, ",\"features\":[1,1]}\n"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << cases[i].first;
    EXPECT_THAT(s.message(), HasSubstr(absl::StrCat(Part(name, 1), ":1: ", cases[i].second)))
        << cases[i].first;
  }
  // 256 bytes is still fine.
  const std::string dir = MakeDir(
      "longid", {{"part-00000", absl::StrCat("{\"id\":\"", std::string(256, 'y'),
                                             "\",\"features\":[1]}\n")}});
  EXPECT_TRUE(ReadSparkFactors(dir).ok());
}

TEST(SparkFactorsReader, EmptyInputAndMissingFiles) {
  const std::string empty = MakeDir("emptydir", {});
  absl::StatusOr<FactorTable> t = ReadSparkFactors(empty);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr(empty + ": no part-* files, expected"));

  const std::string only_success =
      MakeDir("successonly", {{"_SUCCESS", ""}, {"._SUCCESS.crc", "crc"}});
  EXPECT_THAT(ReadSparkFactors(only_success).status().message(), HasSubstr("no part-* files"));

  const std::string blank = MakeDir("blankparts", {{"part-00000", ""}, {"part-00001", "\n \n"}});
  t = ReadSparkFactors(blank);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr(blank + ": no rows in " + blank + "/part-00000, "));
  EXPECT_THAT(t.status().message(), HasSubstr("expected at least one"));

  t = ReadSparkFactors(empty + "/nope");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr(empty + "/nope: no such file"));

  const std::string gz = MakeDir("gz", {{"part-00000.json.gz", "\x1f\x8b"}});
  EXPECT_THAT(ReadSparkFactors(gz).status().message(),
              HasSubstr("part-00000.json.gz: compressed part file, expected plain JSON"));
}

TEST(SparkFactorsReader, ReadBufferBoundsTheLineLength) {
  // 27-byte lines through a 32-byte buffer: every row read, across refills.
  std::string text;
  for (int i = 0; i < 20; ++i) text += absl::StrCat("{\"id\":", 10 + i, ",\"features\":[1.5]}\n");
  const std::string dir = MakeDir("smallbuffer", {{"part-00000", text}});
  absl::StatusOr<FactorTable> t = ReadSparkFactors(dir, 32);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->ids.size(), 20u);
  EXPECT_EQ(t->ids[19], "29");
  EXPECT_EQ(Row(*t, 19), std::vector<float>{1.5f});

  // A longer line is an error naming its file and line.
  const std::string longer = MakeDir(
      "longline", {{"part-00000", absl::StrCat(text, "{\"id\":1,\"features\":[1.000000000000]}\n")}});
  t = ReadSparkFactors(longer, 32);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr(longer + "/part-00000:21:"));
  EXPECT_TRUE(ReadSparkFactors(longer).ok());
}

}  // namespace
}  // namespace affinity
