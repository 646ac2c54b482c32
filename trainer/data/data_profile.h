// What the ingested interactions look like, computed once from the built
// matrix and the reader's result (no second pass over the input file):
// the distribution of the weights as trained and of the interactions per
// user and per item (quantiles and small histograms), the most active users
// and the most popular items, and the time range. Pure functions; they
// allocate one copy of the weights (4 bytes per interaction) and a count
// per user and per item while they run. Thread-safe on distinct inputs.
#ifndef AFFINITY_TRAINER_DATA_DATA_PROFILE_H_
#define AFFINITY_TRAINER_DATA_DATA_PROFILE_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/data/interactions_reader.h"

namespace affinity {

// Nearest-rank quantiles: the q-quantile of n sorted values v[0..n-1] is
// v[ceil(q * n) - 1] (a value that occurs in the data); min and max are
// v[0] and v[n-1]. All 0 when count is 0.
struct Quantiles {
  int64_t count = 0;
  double min = 0;
  double p25 = 0;
  double median = 0;
  double p75 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
  double mean = 0;
};

// Values v with low <= v <= high (both ends inclusive: bins of integers or
// of single values), or low <= v < high for the equal-width bins of
// ValueHistogram (the last one includes its high end; the tail bin beyond
// the clip is low < v <= high).
struct HistogramBin {
  double low = 0;
  double high = 0;
  int64_t count = 0;
};

struct IdCount {
  std::string id;
  int64_t interactions = 0;
};

struct DataProfile {
  Quantiles weights;  // the matrix values: merged, transformed
  std::vector<HistogramBin> weight_histogram;
  Quantiles interactions_per_user;  // entries per user (distinct items)
  std::vector<HistogramBin> user_histogram;
  Quantiles interactions_per_item;  // entries per item (distinct users)
  std::vector<HistogramBin> item_histogram;
  std::vector<IdCount> top_users;  // most entries first; ties: first seen
  std::vector<IdCount> top_items;
  bool has_timestamps = false;
  int64_t first_timestamp = 0;
  int64_t last_timestamp = 0;
};

// Quantiles of `values`, which it reorders (partial sorts, O(n)).
Quantiles QuantilesOf(std::vector<double>& values);
Quantiles QuantilesOf(std::vector<float>& values);

// Counts of the integers in `counts` (all >= 0) in bins [0, 0] (only when a
// 0 occurs), [1, 1], [2, 3], [4, 7], ... up to the bin of the largest;
// every bin up to the last is present, empty ones included.
std::vector<HistogramBin> PowerOfTwoHistogram(const std::vector<double>& counts);

// One bin per distinct value (low = high = the value, ascending) when there
// are at most max_distinct of them, else `bins` equal-width bins from the
// smallest value to `clip` (typically the 99th percentile, so that a long
// tail does not squeeze everything into the first bin) and, when larger
// values occur, one more bin from `clip` (excluded) to the largest value.
// clip <= the smallest value, or NaN, means the largest value.
std::vector<HistogramBin> ValueHistogram(const std::vector<float>& values, int max_distinct = 12,
                                         int bins = 10, double clip = NAN);

// The profile of `data` with the top_n most active users and popular items.
DataProfile ProfileInteractions(const Interactions& data, int top_n = 10);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_DATA_PROFILE_H_
