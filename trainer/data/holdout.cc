#include "trainer/data/holdout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity {
namespace {

// Test entries for a row of n entries.
int64_t TestCount(int64_t n, double fraction) {
  if (n < 2) return 0;
  const int64_t k = static_cast<int64_t>(std::floor(fraction * n + 0.5));
  return std::min(k, n - 1);
}

// Uniform in [0, bound), by rejection, so the draw depends only on the
// engine's output sequence (std::uniform_int_distribution is
// implementation-defined).
uint64_t UniformBelow(std::mt19937_64& engine, uint64_t bound) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % bound;
  while (true) {
    const uint64_t x = engine();
    if (x < limit) return x % bound;
  }
}

}  // namespace

absl::StatusOr<HoldoutStrategy> ParseHoldoutStrategy(absl::string_view name) {
  if (name == "random") return HoldoutStrategy::kRandom;
  if (name == "time") return HoldoutStrategy::kTime;
  return absl::InvalidArgumentError(absl::StrCat(
      "holdout strategy '", name, "' is unknown, expected random or time"));
}

absl::StatusOr<HoldoutSplit> SplitHoldout(const CsrMatrix& matrix,
                                          absl::Span<const int64_t> timestamps,
                                          const HoldoutOptions& options) {
  const double f = options.test_fraction;
  if (!(f >= 0.0 && f <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("holdout test_fraction ", f, " is outside [0, 1]"));
  }
  const bool has_timestamps = !timestamps.empty();
  if (has_timestamps &&
      static_cast<int64_t>(timestamps.size()) != matrix.nnz()) {
    return absl::InvalidArgumentError(
        absl::StrCat("holdout got ", timestamps.size(), " timestamps for ",
                     matrix.nnz(), " entries, expected one per entry or none"));
  }
  if (options.strategy == HoldoutStrategy::kTime && !has_timestamps) {
    return absl::InvalidArgumentError(
        "time holdout needs timestamps, expected an input with a timestamp "
        "column (or use the random holdout)");
  }

  const int64_t rows = matrix.rows();
  int64_t test_total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    test_total += TestCount(matrix.row(r).size(), f);
  }
  const int64_t train_total = matrix.nnz() - test_total;
  std::vector<int64_t> train_ptr{0}, test_ptr{0};
  train_ptr.reserve(rows + 1);
  test_ptr.reserve(rows + 1);
  std::vector<uint32_t> train_idx, test_idx;
  std::vector<float> train_val, test_val;
  train_idx.reserve(train_total);
  train_val.reserve(train_total);
  test_idx.reserve(test_total);
  test_val.reserve(test_total);
  HoldoutSplit split;
  if (has_timestamps) {
    split.train_timestamps.reserve(train_total);
    split.test_timestamps.reserve(test_total);
  }

  std::mt19937_64 engine(options.seed);
  std::vector<uint32_t> order;  // positions within the row
  std::vector<char> in_test;
  for (int64_t r = 0; r < rows; ++r) {
    const CsrMatrix::Row row = matrix.row(r);
    const int64_t n = row.size();
    const int64_t k = TestCount(n, f);
    const int64_t base = matrix.indptr()[r];
    in_test.assign(n, 0);
    if (k > 0) {
      order.resize(n);
      std::iota(order.begin(), order.end(), 0u);
      if (options.strategy == HoldoutStrategy::kRandom) {
        // Partial Fisher-Yates: the first k positions become a uniform
        // sample without replacement.
        for (int64_t i = 0; i < k; ++i) {
          const int64_t j = i + static_cast<int64_t>(UniformBelow(
                                    engine, static_cast<uint64_t>(n - i)));
          std::swap(order[i], order[j]);
        }
      } else {
        // Latest first; among equal timestamps the larger column first.
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](uint32_t a, uint32_t b) {
                            const int64_t ta = timestamps[base + a];
                            const int64_t tb = timestamps[base + b];
                            return ta != tb ? ta > tb : a > b;
                          });
      }
      for (int64_t i = 0; i < k; ++i) in_test[order[i]] = 1;
    }
    for (int64_t i = 0; i < n; ++i) {
      const bool test = in_test[i] != 0;
      (test ? test_idx : train_idx).push_back(row.indices[i]);
      (test ? test_val : train_val).push_back(row.values[i]);
      if (has_timestamps) {
        (test ? split.test_timestamps : split.train_timestamps)
            .push_back(timestamps[base + i]);
      }
    }
    train_ptr.push_back(static_cast<int64_t>(train_idx.size()));
    test_ptr.push_back(static_cast<int64_t>(test_idx.size()));
  }
  split.train = CsrMatrix(rows, matrix.cols(), std::move(train_ptr),
                          std::move(train_idx), std::move(train_val));
  split.test = CsrMatrix(rows, matrix.cols(), std::move(test_ptr),
                         std::move(test_idx), std::move(test_val));
  return split;
}

}  // namespace affinity
