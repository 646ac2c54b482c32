// Small interaction matrices for the evaluation tests, built from explicit
// rows or drawn from a seeded generator, and their dense copies.
#ifndef AFFINITY_TESTS_EVAL_TEST_MATRICES_H_
#define AFFINITY_TESTS_EVAL_TEST_MATRICES_H_

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include <Eigen/Core>

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

// A rows x cols matrix with each entry present with probability `density`
// and a value uniform in [0.5, 5] (ratings-like): a flat spectrum after the
// first singular value.
inline CsrMatrix RandomSparse(int64_t rows, int64_t cols, double density,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution present(density);
  std::uniform_real_distribution<float> value(0.5f, 5.0f);
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (!present(rng)) continue;
      indices.push_back(static_cast<uint32_t>(c));
      values.push_back(value(rng));
    }
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  return CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                   std::move(values));
}

// A sparse sample (each entry present with probability `density`) of
// sum_k (2 rank - k) a_k b_k^T plus small noise, with a_k, b_k standard
// normal: `rank` strong directions above the bulk that the sampling adds
// (well separated for a density of 0.8 or more).
inline CsrMatrix PlantedLowRank(int64_t rows, int64_t cols, int rank,
                                double density, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::bernoulli_distribution present(density);
  Eigen::MatrixXd a(rows, rank), b(cols, rank);
  for (int64_t i = 0; i < a.size(); ++i) a.data()[i] = normal(rng);
  for (int64_t i = 0; i < b.size(); ++i) b.data()[i] = normal(rng);
  for (int k = 0; k < rank; ++k) a.col(k) *= 2 * rank - k;
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (!present(rng)) continue;
      indices.push_back(static_cast<uint32_t>(c));
      values.push_back(
          static_cast<float>(a.row(r).dot(b.row(c)) + 0.1 * normal(rng)));
    }
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  return CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                   std::move(values));
}

// The dense copy of m (missing entries 0).
inline Eigen::MatrixXd DenseOf(const CsrMatrix& m) {
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(m.rows(), m.cols());
  for (int64_t r = 0; r < m.rows(); ++r) {
    const CsrMatrix::Row row = m.row(r);
    for (size_t e = 0; e < row.size(); ++e) {
      d(r, row.indices[e]) = row.values[e];
    }
  }
  return d;
}

}  // namespace testing
}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TESTS_EVAL_TEST_MATRICES_H_
