#include "trainer/data/csr.h"

#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

struct Triplets {
  std::vector<uint32_t> row, col;
  std::vector<float> value;
};

// Random triplets with many duplicate (row, col) pairs; values are small
// integers so that sums are exact in float whatever the order.
Triplets RandomTriplets(std::mt19937_64& rng, int rows, int cols, int n) {
  Triplets t;
  for (int i = 0; i < n; ++i) {
    t.row.push_back(static_cast<uint32_t>(rng() % rows));
    t.col.push_back(static_cast<uint32_t>(rng() % cols));
    t.value.push_back(static_cast<float>(rng() % 7));
  }
  return t;
}

// Naive reference: (row, col) -> summed value.
std::map<std::pair<uint32_t, uint32_t>, float> Dense(const Triplets& t) {
  std::map<std::pair<uint32_t, uint32_t>, float> m;
  for (size_t i = 0; i < t.row.size(); ++i)
    m[{t.row[i], t.col[i]}] += t.value[i];
  return m;
}

std::map<std::pair<uint32_t, uint32_t>, float> Entries(const CsrMatrix& m) {
  std::map<std::pair<uint32_t, uint32_t>, float> out;
  for (int64_t r = 0; r < m.rows(); ++r) {
    const CsrMatrix::Row row = m.row(r);
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_TRUE(
          out.emplace(std::make_pair(static_cast<uint32_t>(r), row.indices[i]),
                      row.values[i])
              .second);
    }
  }
  return out;
}

void ExpectWellFormed(const CsrMatrix& m) {
  ASSERT_EQ(static_cast<int64_t>(m.indptr().size()), m.rows() + 1);
  EXPECT_EQ(m.indptr().front(), 0);
  EXPECT_EQ(m.indptr().back(), m.nnz());
  EXPECT_EQ(m.indices().size(), m.values().size());
  for (int64_t r = 0; r < m.rows(); ++r) {
    const CsrMatrix::Row row = m.row(r);
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_LT(row.indices[i], m.cols());
      if (i > 0) {
        EXPECT_LT(row.indices[i - 1], row.indices[i]) << "row " << r;
      }
    }
  }
}

TEST(CsrMatrixTest, FromTripletsMatchesDenseReferenceOnRandomData) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 20; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 40);
    const int cols = 1 + static_cast<int>(rng() % 30);
    const Triplets t =
        RandomTriplets(rng, rows, cols, static_cast<int>(rng() % 500));
    absl::StatusOr<CsrMatrix> m =
        CsrMatrix::FromTriplets(rows, cols, t.row, t.col, t.value);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->rows(), rows);
    EXPECT_EQ(m->cols(), cols);
    ExpectWellFormed(*m);
    EXPECT_EQ(Entries(*m), Dense(t));
  }
}

TEST(CsrMatrixTest, FromTripletsSumsDuplicates) {
  const std::vector<uint32_t> row = {1, 0, 1, 1};
  const std::vector<uint32_t> col = {2, 0, 2, 0};
  const std::vector<float> value = {1.5f, 4.0f, 2.0f, 3.0f};
  absl::StatusOr<CsrMatrix> m = CsrMatrix::FromTriplets(2, 3, row, col, value);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->nnz(), 3);
  EXPECT_THAT(m->indptr(), ::testing::ElementsAre(0, 1, 3));
  EXPECT_THAT(m->indices(), ::testing::ElementsAre(0, 0, 2));
  EXPECT_THAT(m->values(), ::testing::ElementsAre(4.0f, 3.0f, 3.5f));
}

TEST(CsrMatrixTest, FromTripletsKeepsEmptyRowsAndMatrices) {
  absl::StatusOr<CsrMatrix> empty = CsrMatrix::FromTriplets(3, 4, {}, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->rows(), 3);
  EXPECT_EQ(empty->nnz(), 0);
  EXPECT_EQ(empty->row(2).size(), 0u);
  absl::StatusOr<CsrMatrix> none = CsrMatrix::FromTriplets(0, 0, {}, {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Transpose().rows(), 0);
}

TEST(CsrMatrixTest, FromTripletsRejectsOutOfRangeIndices) {
  const std::vector<uint32_t> ok = {0, 1};
  const std::vector<uint32_t> bad_row = {0, 2};
  const std::vector<uint32_t> bad_col = {5, 0};
  const std::vector<float> value = {1, 1};
  absl::StatusOr<CsrMatrix> m =
      CsrMatrix::FromTriplets(2, 5, bad_row, ok, value);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("triplet 1: row 2 out of range"));
  m = CsrMatrix::FromTriplets(2, 5, ok, bad_col, value);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("triplet 0: col 5 out of range"));
}

TEST(CsrMatrixTest, FromTripletsRejectsMismatchedLengthsAndBadShape) {
  const std::vector<uint32_t> two = {0, 0};
  const std::vector<uint32_t> one = {0};
  const std::vector<float> value = {1, 1};
  absl::StatusOr<CsrMatrix> m = CsrMatrix::FromTriplets(1, 1, two, one, value);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("expected equal lengths"));
  m = CsrMatrix::FromTriplets(-1, 1, {}, {}, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsrMatrixTest, TransposeMatchesDenseReferenceOnRandomData) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 30);
    const int cols = 1 + static_cast<int>(rng() % 50);
    const Triplets t =
        RandomTriplets(rng, rows, cols, static_cast<int>(rng() % 400));
    absl::StatusOr<CsrMatrix> m =
        CsrMatrix::FromTriplets(rows, cols, t.row, t.col, t.value);
    ASSERT_TRUE(m.ok());
    const CsrMatrix tr = m->Transpose();
    EXPECT_EQ(tr.rows(), cols);
    EXPECT_EQ(tr.cols(), rows);
    ExpectWellFormed(tr);
    std::map<std::pair<uint32_t, uint32_t>, float> expected;
    for (const auto& [rc, v] : Dense(t)) expected[{rc.second, rc.first}] = v;
    EXPECT_EQ(Entries(tr), expected);
    const CsrMatrix back = tr.Transpose();
    EXPECT_EQ(back.indptr(), m->indptr());
    EXPECT_EQ(back.indices(), m->indices());
    EXPECT_EQ(back.values(), m->values());
  }
}

TEST(CsrMatrixTest, MemoryBytesCoversTheArrays) {
  const std::vector<uint32_t> row = {0, 1, 1};
  const std::vector<uint32_t> col = {0, 0, 1};
  const std::vector<float> value = {1, 2, 3};
  absl::StatusOr<CsrMatrix> m = CsrMatrix::FromTriplets(2, 2, row, col, value);
  ASSERT_TRUE(m.ok());
  EXPECT_GE(m->MemoryBytes(), 3 * 8 + 3 * 4 + 3 * 4);
  EXPECT_LT(m->MemoryBytes(), 1024);
}

TEST(CsrMatrixTest, MutableValuesRescaleInPlace) {
  const std::vector<uint32_t> row = {0, 1};
  const std::vector<uint32_t> col = {1, 0};
  const std::vector<float> value = {2, 3};
  absl::StatusOr<CsrMatrix> m = CsrMatrix::FromTriplets(2, 2, row, col, value);
  ASSERT_TRUE(m.ok());
  for (float& v : m->mutable_values()) v *= 10;
  EXPECT_THAT(m->values(), ::testing::ElementsAre(20.0f, 30.0f));
}

}  // namespace
}  // namespace affinity
