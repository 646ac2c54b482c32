#include "trainer/data/line_reader.h"

#include <zlib.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace affinity {
namespace {

using ::affinity::testing::MissingTempPath;
using ::affinity::testing::WriteTempFile;

std::vector<std::string> ReadAll(LineReader& reader) {
  std::vector<std::string> lines;
  absl::string_view line;
  while (reader.Next(&line)) lines.emplace_back(line);
  return lines;
}

uint32_t Crc(const std::string& s) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data()), s.size()));
}

TEST(LineReaderTest, LinesAcrossBufferRefillsWithCountsAndCrc) {
  std::string contents;
  std::vector<std::string> expected;
  for (int i = 0; i < 500; ++i) {
    expected.push_back(std::string(i % 37, static_cast<char>('a' + i % 26)));
    contents += expected.back() + (i % 3 == 0 ? "\r\n" : "\n");
  }
  expected.push_back("last without newline");
  contents += expected.back();
  const std::string path = WriteTempFile("lines.txt", contents);
  for (size_t buffer : {64, 100, 4096}) {
    auto reader = LineReader::Open(path, buffer);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(ReadAll(**reader), expected) << buffer;
    EXPECT_TRUE((*reader)->status().ok());
    EXPECT_EQ((*reader)->line_number(), 501);
    EXPECT_EQ((*reader)->bytes_read(), static_cast<int64_t>(contents.size()));
    EXPECT_EQ((*reader)->crc32(), Crc(contents));
  }
}

TEST(LineReaderTest, EmptyFileHasNoLines) {
  auto reader = LineReader::Open(WriteTempFile("empty.txt", ""), 64);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(ReadAll(**reader).empty());
  EXPECT_EQ((*reader)->bytes_read(), 0);
  EXPECT_EQ((*reader)->crc32(), 0u);
}

TEST(LineReaderTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = MissingTempPath("no_such_file.csv");
  auto reader = LineReader::Open(path, 64);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(reader.status().message(), ::testing::HasSubstr(path));
}

TEST(LineReaderTest, LineLongerThanBufferIsAnError) {
  const std::string path =
      WriteTempFile("long.txt", "short\n" + std::string(200, 'x') + "\nok\n");
  auto reader = LineReader::Open(path, 64);
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT(ReadAll(**reader), ::testing::ElementsAre("short"));
  EXPECT_EQ((*reader)->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT((*reader)->status().message(),
              ::testing::HasSubstr(path + ":2: line longer than"));
}

TEST(LineReaderTest, DirectoryIsAReadError) {
  const char* dir = std::getenv("TEST_TMPDIR");
  ASSERT_NE(dir, nullptr);
  auto reader = LineReader::Open(dir, 64);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(ReadAll(**reader).empty());
  EXPECT_FALSE((*reader)->status().ok());
  EXPECT_THAT((*reader)->status().message(), ::testing::HasSubstr(dir));
}

}  // namespace
}  // namespace affinity
