#include "trainer/data/data_profile.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/data/temp_files.h"

namespace affinity {
namespace {

using ::affinity::testing::WriteTempFile;

// Bins as (low, high, count) triples, for comparison.
std::vector<std::vector<double>> Bins(const std::vector<HistogramBin>& bins) {
  std::vector<std::vector<double>> out;
  for (const HistogramBin& b : bins) out.push_back({b.low, b.high, static_cast<double>(b.count)});
  return out;
}

std::vector<std::pair<std::string, int64_t>> Pairs(const std::vector<IdCount>& top) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const IdCount& c : top) out.emplace_back(c.id, c.interactions);
  return out;
}

void ExpectQuantiles(const Quantiles& q, int64_t count, std::vector<double> want_min_to_max,
                     double mean) {
  EXPECT_EQ(q.count, count);
  const std::vector<double> got = {q.min, q.p25, q.median, q.p75, q.p90, q.p99, q.max};
  EXPECT_EQ(got, want_min_to_max);
  EXPECT_DOUBLE_EQ(q.mean, mean);
}

TEST(QuantilesOf, NearestRank) {
  std::vector<double> v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
  // n = 10: p25 is the 3rd value, median the 5th, p75 the 8th, p90 the
  // 9th, p99 the 10th.
  ExpectQuantiles(QuantilesOf(v), 10, {1, 3, 5, 8, 9, 10, 10}, 5.5);
  std::vector<double> one = {7};
  ExpectQuantiles(QuantilesOf(one), 1, {7, 7, 7, 7, 7, 7, 7}, 7);
  std::vector<double> none;
  ExpectQuantiles(QuantilesOf(none), 0, {0, 0, 0, 0, 0, 0, 0}, 0);
  std::vector<float> floats = {0.5f, 4.5f, 2.5f, 1.5f};
  ExpectQuantiles(QuantilesOf(floats), 4, {0.5, 0.5, 1.5, 2.5, 4.5, 4.5, 4.5}, 2.25);
}

TEST(PowerOfTwoHistogram, BinsOfDoublingWidthWithEmptyOnesKept) {
  EXPECT_EQ(Bins(PowerOfTwoHistogram({1, 1, 2, 3, 9, 16})),
            (std::vector<std::vector<double>>{
                {1, 1, 2}, {2, 3, 2}, {4, 7, 0}, {8, 15, 1}, {16, 31, 1}}));
  EXPECT_EQ(Bins(PowerOfTwoHistogram({0, 0, 1})),
            (std::vector<std::vector<double>>{{0, 0, 2}, {1, 1, 1}}));
  EXPECT_TRUE(PowerOfTwoHistogram({}).empty());
}

TEST(ValueHistogram, DistinctValuesWhileFewElseEqualWidthBins) {
  EXPECT_EQ(Bins(ValueHistogram({4, 0.5f, 4, 5, 0.5f, 4})),
            (std::vector<std::vector<double>>{{0.5, 0.5, 2}, {4, 4, 3}, {5, 5, 1}}));
  // Five distinct values, at most four kept: two bins over 0..10.
  EXPECT_EQ(Bins(ValueHistogram({0, 1, 2, 6, 10, 10}, 4, 2)),
            (std::vector<std::vector<double>>{{0, 5, 3}, {5, 10, 3}}));
  // A long tail beyond the clip gets one bin of its own.
  EXPECT_EQ(Bins(ValueHistogram({0, 1, 2, 3, 4, 100, 1000}, 4, 2, 4)),
            (std::vector<std::vector<double>>{{0, 2, 2}, {2, 4, 3}, {4, 1000, 2}}));
}

// u1 a 1+2 (merged), u1 b 2, u1 c 3, u2 a 4, u2 b 1, u3 a 5, u3 c 2, u4 d 1,
// u5 a 1.
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

TEST(ProfileInteractions, ExactFiguresOfASmallInput) {
  absl::StatusOr<Interactions> data = ReadInteractions(WriteTempFile("profile.csv", kInput));
  ASSERT_TRUE(data.ok()) << data.status();
  const DataProfile p = ProfileInteractions(*data, 3);

  // Merged weights 3 2 3 4 1 5 2 1 1: sorted 1 1 1 2 2 3 3 4 5.
  ExpectQuantiles(p.weights, 9, {1, 1, 2, 3, 5, 5, 5}, 22.0 / 9);
  EXPECT_EQ(Bins(p.weight_histogram),
            (std::vector<std::vector<double>>{
                {1, 1, 3}, {2, 2, 2}, {3, 3, 2}, {4, 4, 1}, {5, 5, 1}}));
  // Items per user: u1 3, u2 2, u3 2, u4 1, u5 1.
  ExpectQuantiles(p.interactions_per_user, 5, {1, 1, 2, 2, 3, 3, 3}, 9.0 / 5);
  EXPECT_EQ(Bins(p.user_histogram),
            (std::vector<std::vector<double>>{{1, 1, 2}, {2, 3, 3}}));
  // Users per item: a 4, b 2, c 2, d 1.
  ExpectQuantiles(p.interactions_per_item, 4, {1, 1, 2, 2, 4, 4, 4}, 9.0 / 4);
  EXPECT_EQ(Bins(p.item_histogram),
            (std::vector<std::vector<double>>{{1, 1, 1}, {2, 3, 2}, {4, 7, 1}}));
  // Ties keep the order in which ids first appeared.
  EXPECT_EQ(Pairs(p.top_users),
            (std::vector<std::pair<std::string, int64_t>>{{"u1", 3}, {"u2", 2}, {"u3", 2}}));
  EXPECT_EQ(Pairs(p.top_items),
            (std::vector<std::pair<std::string, int64_t>>{{"a", 4}, {"b", 2}, {"c", 2}}));
  EXPECT_TRUE(p.has_timestamps);
  EXPECT_EQ(p.first_timestamp, 50);
  EXPECT_EQ(p.last_timestamp, 300);
}

TEST(ProfileInteractions, WeightsAreTheTransformedOnesAndTopNCanExceedTheIds) {
  InteractionReaderOptions options;
  options.weight_transform = WeightTransform::kBinary;
  absl::StatusOr<Interactions> data =
      ReadInteractions(WriteTempFile("profile_binary.csv", "a,x,0\na,y,3\nb,x,7\n"), options);
  ASSERT_TRUE(data.ok()) << data.status();
  const DataProfile p = ProfileInteractions(*data, 10);
  EXPECT_EQ(Bins(p.weight_histogram), (std::vector<std::vector<double>>{{0, 0, 1}, {1, 1, 2}}));
  EXPECT_EQ(Pairs(p.top_users),
            (std::vector<std::pair<std::string, int64_t>>{{"a", 2}, {"b", 1}}));
  EXPECT_EQ(Pairs(p.top_items),
            (std::vector<std::pair<std::string, int64_t>>{{"x", 2}, {"y", 1}}));
  EXPECT_FALSE(p.has_timestamps);
}

}  // namespace
}  // namespace affinity
