#include "trainer/nightly/comparison_split.h"

#include <algorithm>

namespace affinity {

ComparisonSplit SplitWhere(const CsrMatrix& m, const std::vector<bool>& comparable_users,
                           const std::function<bool(int64_t entry)>& held_out) {
  const int64_t rows = m.rows();
  std::vector<int64_t> train_ptr(1, 0), test_ptr(1, 0);
  train_ptr.reserve(rows + 1);
  test_ptr.reserve(rows + 1);
  std::vector<uint32_t> train_idx, test_idx;
  std::vector<float> train_val, test_val;
  train_idx.reserve(m.nnz());
  train_val.reserve(m.nnz());
  std::vector<uint8_t> to_test;
  ComparisonSplit out;
  for (int64_t u = 0; u < rows; ++u) {
    const int64_t begin = m.indptr()[u], end = m.indptr()[u + 1];
    to_test.assign(end - begin, 0);
    int64_t held = 0;
    if (comparable_users[u]) {
      for (int64_t e = begin; e < end; ++e) {
        if (held_out(e)) {
          to_test[e - begin] = 1;
          ++held;
        }
      }
    }
    if (held == end - begin) held = 0;  // nothing would be left to train on
    for (int64_t e = begin; e < end; ++e) {
      const bool test = held > 0 && to_test[e - begin];
      (test ? test_idx : train_idx).push_back(m.indices()[e]);
      (test ? test_val : train_val).push_back(m.values()[e]);
    }
    if (held > 0) ++out.test_users;
    train_ptr.push_back(static_cast<int64_t>(train_idx.size()));
    test_ptr.push_back(static_cast<int64_t>(test_idx.size()));
  }
  out.train = CsrMatrix(rows, m.cols(), std::move(train_ptr), std::move(train_idx),
                        std::move(train_val));
  out.test = CsrMatrix(rows, m.cols(), std::move(test_ptr), std::move(test_idx),
                       std::move(test_val));
  return out;
}

ComparisonSplit SplitNewerThan(const CsrMatrix& m, absl::Span<const int64_t> timestamps,
                               int64_t after, const std::vector<bool>& comparable_users) {
  return SplitWhere(m, comparable_users,
                    [&](int64_t entry) { return timestamps[entry] > after; });
}

ComparisonSplit SplitNotIn(const CsrMatrix& m, const CsrMatrix& known,
                           const std::vector<bool>& comparable_users) {
  // Rows are visited in order, so the row of an entry is tracked alongside.
  int64_t row = 0;
  return SplitWhere(m, comparable_users, [&](int64_t entry) {
    while (m.indptr()[row + 1] <= entry) ++row;
    const auto seen = known.row(row).indices;
    return !std::binary_search(seen.begin(), seen.end(), m.indices()[entry]);
  });
}

}  // namespace affinity
