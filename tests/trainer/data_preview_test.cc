#include "trainer/data_preview.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace affinity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string WriteInput(const std::string& name, const std::string& contents) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

// u1: a (1 + 2 merged), b, c; u2: a, b; u3: a, c; u4: d; u5: a.
constexpr char kInput[] =
    "user,item,weight,timestamp\n"
    "u1,a,1,100\n"
    "u1,b,2,150\n"
    "u1,c,3,120\n"
    "u2,a,4,200\n"
    "u2,b,1,210\n"
    "u3,a,5,50\n"
    "u3,c,2,60\n"
    "u1,a,2,300\n"
    "u4,d,1,90\n"
    "u5,a,1,70\n";

TEST(DataPreview, TerminalLinesOfASmallInput) {
  absl::StatusOr<Interactions> data = ReadInteractions(WriteInput("small.csv", kInput));
  ASSERT_TRUE(data.ok()) << data.status();
  const affinity::v1::DataProfile profile = DataProfileProto(*data, WeightTransform::kRaw);
  EXPECT_EQ(FormatDataPreview(profile),
            "first rows as parsed (line: user, item, weight, timestamp):\n"
            "  line 2: u1, a, 1, 100\n"
            "  line 3: u1, b, 2, 150\n"
            "  line 4: u1, c, 3, 120\n"
            "  line 5: u2, a, 4, 200\n"
            "  line 6: u2, b, 1, 210\n"
            "weights as trained (duplicates summed, --weight=raw): min 1, p25 1, median 2, "
            "p75 3, p90 5, p99 5, max 5, mean 2.444\n"
            "interactions per user: min 1, p25 1, median 2, p75 2, p90 3, p99 3, max 3, "
            "mean 1.8\n"
            "interactions per item: min 1, p25 1, median 2, p75 2, p90 4, p99 4, max 4, "
            "mean 2.25\n"
            "most active users (interactions): u1 (3), u2 (2), u3 (2), u4 (1), u5 (1)\n"
            "most popular items (interactions): a (4), b (2), c (2), d (1)\n"
            "timestamps: 50 .. 300\n");
  // The report keeps ten of each, and the histograms.
  EXPECT_EQ(profile.columns(), 4);
  EXPECT_EQ(profile.top_users_size(), 5);
  ASSERT_EQ(profile.item_histogram_size(), 3);
  EXPECT_EQ(profile.item_histogram(2).low(), 4);
  EXPECT_EQ(profile.item_histogram(2).count(), 1);
}

TEST(DataPreview, WithoutWeightsOrTimestampsAndWithATransform) {
  InteractionReaderOptions options;
  options.weight_transform = WeightTransform::kLog1p;
  absl::StatusOr<Interactions> data =
      ReadInteractions(WriteInput("pairs.csv", "a,x\na,y\nb,x\na,x\n"), options);
  ASSERT_TRUE(data.ok()) << data.status();
  const std::string text =
      FormatDataPreview(DataProfileProto(*data, WeightTransform::kLog1p), 1);
  EXPECT_THAT(text, HasSubstr("first rows as parsed (line: user, item):\n  line 1: a, x\n"));
  // a,x weighs log1p(2) = 1.09861, the others log1p(1) = 0.693147.
  EXPECT_THAT(text, HasSubstr("weights as trained (1 per row, duplicates summed, "
                              "--weight=log1p): min 0.693147, p25 0.693147, median 0.693147, "
                              "p75 1.09861, p90 1.09861, p99 1.09861, max 1.09861, mean 0.8283\n"));
  EXPECT_THAT(text, HasSubstr("most active users (interactions): a (2)\n"));
  EXPECT_THAT(text, Not(HasSubstr("timestamps")));
}

TEST(DataPreview, UnixSecondsGetTheirDateAndIdsCannotDriveTheTerminal) {
  EXPECT_EQ(DescribeTimestamp(964982703), "964982703 (2000-07-30 18:45:03 UTC)");
  EXPECT_EQ(DescribeTimestamp(300), "300");
  EXPECT_EQ(PrintableId("caf\xC3\xA9\x1b[31m\t"), "caf\xC3\xA9\\x1b[31m\\t");
}

}  // namespace
}  // namespace affinity
