// Splits a user-major interaction matrix into train and test matrices of the
// same shape, user by user, for offline evaluation.
//
// Exact rule, for a user (row) with n entries and test_fraction f:
//  - n < 2: every entry stays in train.
//  - otherwise k = round(f * n) (halves round up), capped at n - 1 so that
//    train keeps at least one entry; k entries go to test, n - k to train.
//    f = 0 gives an empty test matrix.
//  - kRandom: the k test entries are drawn uniformly without replacement by
//    a std::mt19937_64 seeded with `seed`, users visited in row order; the
//    same matrix and seed always give the same split, on any platform.
//  - kTime: the k entries with the latest timestamps go to test; among equal
//    timestamps the larger column index counts as later. Requires one
//    timestamp per entry (aligned with matrix.indices()), else
//    InvalidArgument.
// Every entry lands in exactly one of train and test, with its value; rows
// stay sorted by column. Timestamps, when given, are split alongside.
#ifndef AFFINITY_TRAINER_DATA_HOLDOUT_H_
#define AFFINITY_TRAINER_DATA_HOLDOUT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "trainer/data/csr.h"

namespace affinity {

enum class HoldoutStrategy { kRandom, kTime };

// Parses "random" or "time".
absl::StatusOr<HoldoutStrategy> ParseHoldoutStrategy(absl::string_view name);

struct HoldoutOptions {
  HoldoutStrategy strategy = HoldoutStrategy::kRandom;
  double test_fraction = 0.2;  // in [0, 1]
  uint64_t seed = 1;           // kRandom only
};

struct HoldoutSplit {
  CsrMatrix train;
  CsrMatrix test;
  // Aligned with train/test indices; empty when no timestamps were given.
  std::vector<int64_t> train_timestamps;
  std::vector<int64_t> test_timestamps;
};

// `timestamps` is empty or has matrix.nnz() entries.
absl::StatusOr<HoldoutSplit> SplitHoldout(const CsrMatrix& matrix,
                                          absl::Span<const int64_t> timestamps,
                                          const HoldoutOptions& options);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_HOLDOUT_H_
