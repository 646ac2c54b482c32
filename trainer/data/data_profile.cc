#include "trainer/data/data_profile.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace affinity {
namespace {

template <typename T>
Quantiles QuantilesInPlace(std::vector<T>& v) {
  Quantiles q;
  const int64_t n = static_cast<int64_t>(v.size());
  q.count = n;
  if (n == 0) return q;
  double sum = 0;
  T lo = v[0], hi = v[0];
  for (const T x : v) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  q.min = lo;
  q.max = hi;
  q.mean = sum / n;
  // Ascending ranks: each nth_element only needs the part right of the
  // previous rank, which holds the values not below it.
  auto rank = [n](double p) {
    return std::max<int64_t>(0, static_cast<int64_t>(std::ceil(p * n - 1e-9)) - 1);
  };
  struct Target {
    double p;
    double* out;
  };
  const Target targets[] = {{0.25, &q.p25}, {0.5, &q.median}, {0.75, &q.p75},
                            {0.90, &q.p90}, {0.99, &q.p99}};
  int64_t from = 0;
  for (const Target& t : targets) {
    const int64_t r = rank(t.p);
    if (r >= from) {
      std::nth_element(v.begin() + from, v.begin() + r, v.end());
      from = r;
    }
    *t.out = v[r];
  }
  return q;
}

// Indices of the top_n largest counts, ties broken by the smaller index.
std::vector<int64_t> TopIndices(const std::vector<double>& counts, int top_n) {
  std::vector<int64_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t n = std::min<size_t>(std::max(top_n, 0), order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](int64_t a, int64_t b) {
    return counts[a] != counts[b] ? counts[a] > counts[b] : a < b;
  });
  order.resize(n);
  return order;
}

std::vector<IdCount> TopIds(const std::vector<double>& counts,
                            const std::vector<std::string>& ids, int top_n) {
  std::vector<IdCount> top;
  for (const int64_t i : TopIndices(counts, top_n)) {
    top.push_back({ids[i], static_cast<int64_t>(counts[i])});
  }
  return top;
}

}  // namespace

Quantiles QuantilesOf(std::vector<double>& values) { return QuantilesInPlace(values); }
Quantiles QuantilesOf(std::vector<float>& values) { return QuantilesInPlace(values); }

std::vector<HistogramBin> PowerOfTwoHistogram(const std::vector<double>& counts) {
  std::vector<HistogramBin> bins;
  if (counts.empty()) return bins;
  const double largest = *std::max_element(counts.begin(), counts.end());
  const bool zero = *std::min_element(counts.begin(), counts.end()) == 0;
  if (zero) bins.push_back({0, 0, 0});
  for (double low = 1; low <= largest; low *= 2) bins.push_back({low, 2 * low - 1, 0});
  for (const double c : counts) {
    // Bin of c: 0, or 1 + floor(log2(c)) after the optional zero bin.
    const size_t index =
        c == 0 ? 0 : (zero ? 1 : 0) + static_cast<size_t>(std::ilogb(c));
    ++bins[index].count;
  }
  return bins;
}

std::vector<HistogramBin> ValueHistogram(const std::vector<float>& values, int max_distinct,
                                         int bins, double clip) {
  std::vector<HistogramBin> out;
  if (values.empty()) return out;
  // Distinct values while there are few (ratings, binary or small counts).
  std::vector<HistogramBin> distinct;
  bool few = true;
  for (const float v : values) {
    auto it = std::find_if(distinct.begin(), distinct.end(),
                           [v](const HistogramBin& b) { return b.low == v; });
    if (it != distinct.end()) {
      ++it->count;
      continue;
    }
    if (static_cast<int>(distinct.size()) == max_distinct) {
      few = false;
      break;
    }
    distinct.push_back({v, v, 1});
  }
  if (few) {
    std::sort(distinct.begin(), distinct.end(),
              [](const HistogramBin& a, const HistogramBin& b) { return a.low < b.low; });
    return distinct;
  }
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const double lo = *lo_it, max = *hi_it;
  const double hi = std::isnan(clip) || clip <= lo || clip > max ? max : clip;
  const double width = (hi - lo) / bins;
  for (int i = 0; i < bins; ++i) {
    out.push_back({lo + i * width, i + 1 == bins ? hi : lo + (i + 1) * width, 0});
  }
  if (hi < max) out.push_back({hi, max, 0});
  for (const float v : values) {
    const int i = v > hi ? bins : std::min(bins - 1, static_cast<int>((v - lo) / width));
    ++out[i].count;
  }
  return out;
}

DataProfile ProfileInteractions(const Interactions& data, int top_n) {
  DataProfile profile;
  const CsrMatrix& m = data.matrix;
  {
    std::vector<float> weights(m.values().begin(), m.values().end());
    profile.weights = QuantilesOf(weights);
    profile.weight_histogram = ValueHistogram(weights, 12, 10, profile.weights.p99);
  }
  std::vector<double> per_user(m.rows());
  for (int64_t u = 0; u < m.rows(); ++u) {
    per_user[u] = static_cast<double>(m.indptr()[u + 1] - m.indptr()[u]);
  }
  std::vector<double> per_item(m.cols());
  for (const uint32_t i : m.indices()) ++per_item[i];
  profile.top_users = TopIds(per_user, data.user_ids, top_n);
  profile.top_items = TopIds(per_item, data.item_ids, top_n);
  profile.user_histogram = PowerOfTwoHistogram(per_user);
  profile.item_histogram = PowerOfTwoHistogram(per_item);
  profile.interactions_per_user = QuantilesOf(per_user);
  profile.interactions_per_item = QuantilesOf(per_item);
  if (!data.timestamps.empty()) {
    const auto [lo, hi] = std::minmax_element(data.timestamps.begin(), data.timestamps.end());
    profile.has_timestamps = true;
    profile.first_timestamp = *lo;
    profile.last_timestamp = *hi;
  }
  return profile;
}

}  // namespace affinity
