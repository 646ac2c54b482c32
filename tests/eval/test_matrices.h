// Small interaction matrices for the evaluation tests, built from explicit
// rows or drawn from a seeded generator.
#ifndef AFFINITY_TESTS_EVAL_TEST_MATRICES_H_
#define AFFINITY_TESTS_EVAL_TEST_MATRICES_H_

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "trainer/data/csr.h"

namespace affinity {
namespace eval {
namespace testing {

// One row per entry of `rows` (column indices, any order, no duplicates),
// every value 1.
inline CsrMatrix MatrixFromRows(int64_t cols,
                                std::vector<std::vector<uint32_t>> rows) {
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  for (std::vector<uint32_t>& row : rows) {
    std::sort(row.begin(), row.end());
    indices.insert(indices.end(), row.begin(), row.end());
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  std::vector<float> values(indices.size(), 1.0f);
  return CsrMatrix(static_cast<int64_t>(rows.size()), cols, std::move(indptr),
                   std::move(indices), std::move(values));
}

// Each (row, col) is present with probability `density`.
inline std::vector<std::vector<uint32_t>> RandomRows(int64_t rows,
                                                     int64_t cols,
                                                     double density,
                                                     std::mt19937_64& rng) {
  std::bernoulli_distribution present(density);
  std::vector<std::vector<uint32_t>> out(rows);
  for (auto& row : out) {
    for (int64_t c = 0; c < cols; ++c) {
      if (present(rng)) row.push_back(static_cast<uint32_t>(c));
    }
  }
  return out;
}

}  // namespace testing
}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TESTS_EVAL_TEST_MATRICES_H_
