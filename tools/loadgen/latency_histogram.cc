#include "tools/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace affinity::loadgen {
namespace {

constexpr size_t kExact = 128;     // values below are their own bucket
constexpr size_t kPerOctave = 64;  // sub-buckets per power of two above
constexpr size_t kBuckets = kExact + kPerOctave * 58;

int HighestBit(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < kExact) return ns;
  const int shift = HighestBit(ns) - 6;  // ns >> shift lies in [64, 128)
  return kExact + (shift - 1) * kPerOctave + ((ns >> shift) - kPerOctave);
}

uint64_t LatencyHistogram::MidpointOf(size_t bucket) {
  if (bucket < kExact) return bucket;
  const size_t j = bucket - kExact;
  const int shift = static_cast<int>(j / kPerOctave) + 1;
  const uint64_t low = (kPerOctave + j % kPerOctave) << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

void LatencyHistogram::Record(uint64_t ns) {
  ++buckets_[BucketOf(ns)];
  ++count_;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(MidpointOf(i), min_, max_);
  }
  return max_;
}

}  // namespace affinity::loadgen
