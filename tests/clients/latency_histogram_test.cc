#include "tools/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace affinity::loadgen {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0.5), 0u);
  EXPECT_EQ(h.Max(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.5), 50u);
  EXPECT_EQ(h.Quantile(0.9), 90u);
  EXPECT_EQ(h.Quantile(1.0), 100u);
  EXPECT_EQ(h.Min(), 1u);
}

// Quantiles of random log-normal latencies match the exact nearest-rank
// quantiles within the histogram's stated relative error.
TEST(LatencyHistogramTest, QuantilesWithinRelativeError) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(2e6), 1.0);
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 50000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.Quantile(q));
    EXPECT_NEAR(got, exact, exact / 64.0) << "q=" << q;
  }
  EXPECT_EQ(h.Max(), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(LatencyHistogramTest, HugeValuesDoNotOverflow) {
  LatencyHistogram h;
  h.Record(UINT64_MAX);
  h.Record(uint64_t{1} << 40);
  EXPECT_EQ(h.Quantile(1.0), UINT64_MAX);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.5)),
              static_cast<double>(uint64_t{1} << 40), (uint64_t{1} << 40) / 64.0);
}

TEST(LatencyHistogramTest, MergeAddsSamples) {
  LatencyHistogram a, b;
  for (uint64_t v = 1; v <= 50; ++v) a.Record(v);
  for (uint64_t v = 51; v <= 100; ++v) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.Quantile(0.75), 75u);
  EXPECT_EQ(a.Max(), 100u);
}

}  // namespace
}  // namespace affinity::loadgen
