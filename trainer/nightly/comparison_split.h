// The held-out interactions on which the nightly job compares a candidate
// with the live version: interactions the live version never trained on
// (newer than its data, or absent from its data), which the candidate is
// not trained on either. Thread-compatible; no I/O.
//
// Only users the live version knows are compared. A user whose every
// interaction would be held out keeps them all in training and is not
// compared (the candidate would have nothing to learn that user from).
#ifndef AFFINITY_TRAINER_NIGHTLY_COMPARISON_SPLIT_H_
#define AFFINITY_TRAINER_NIGHTLY_COMPARISON_SPLIT_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "trainer/data/csr.h"

namespace affinity {

struct ComparisonSplit {
  CsrMatrix train;  // the candidate's training data
  CsrMatrix test;   // held out from both models; same shape as train
  int64_t test_users = 0;
};

// Entry e (an index into m's arrays) of row u goes to test when
// comparable_users[u] and held_out(e). comparable_users has m.rows()
// entries.
ComparisonSplit SplitWhere(const CsrMatrix& m, const std::vector<bool>& comparable_users,
                           const std::function<bool(int64_t entry)>& held_out);

// Held out: interactions with a timestamp after `after` (timestamps are
// aligned with m's entries).
ComparisonSplit SplitNewerThan(const CsrMatrix& m, absl::Span<const int64_t> timestamps,
                               int64_t after, const std::vector<bool>& comparable_users);

// Held out: interactions (u, i) where i is not in known.row(u) (the live
// version's seen items in m's index space; same shape as m).
ComparisonSplit SplitNotIn(const CsrMatrix& m, const CsrMatrix& known,
                           const std::vector<bool>& comparable_users);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_COMPARISON_SPLIT_H_
