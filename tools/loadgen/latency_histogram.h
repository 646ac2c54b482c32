// A fixed-memory latency histogram with bounded relative error.
//
// Contract:
//  - Record(ns) counts one sample. Values below 128 ns are kept exactly;
//    larger ones fall into log-linear buckets 1/64 of an octave wide, so a
//    reported quantile is within 1/64 (about 1.6%) of a recorded value.
//  - Quantile(q), q in [0, 1], is the value below or at which a fraction q of
//    the samples lie (nearest rank), clamped to [Min(), Max()]; exactly
//    Min() / Max() for the first / last rank; 0 when empty.
//  - Merge adds another histogram's samples. Not thread-safe.
#ifndef AFFINITY_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_
#define AFFINITY_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace affinity::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t ns);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t Min() const { return count_ == 0 ? 0 : min_; }
  uint64_t Max() const { return max_; }
  uint64_t Quantile(double q) const;

 private:
  static size_t BucketOf(uint64_t ns);
  static uint64_t MidpointOf(size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace affinity::loadgen

#endif  // AFFINITY_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_
