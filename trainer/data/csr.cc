#include "trainer/data/csr.h"

#include <cassert>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "trainer/data/csr_rows.h"
#include "trainer/data/huge_pages.h"

namespace affinity {

CsrMatrix::CsrMatrix(int64_t rows, int64_t cols, std::vector<int64_t> indptr,
                     std::vector<uint32_t> indices, std::vector<float> values)
    : rows_(rows),
      cols_(cols),
      indptr_(std::move(indptr)),
      indices_(std::move(indices)),
      values_(std::move(values)) {
  assert(static_cast<int64_t>(indptr_.size()) == rows_ + 1);
  assert(indptr_.front() == 0);
  assert(indptr_.back() == static_cast<int64_t>(indices_.size()));
  assert(indices_.size() == values_.size());
}

absl::StatusOr<CsrMatrix> CsrMatrix::FromTriplets(
    int64_t rows, int64_t cols, absl::Span<const uint32_t> row,
    absl::Span<const uint32_t> col, absl::Span<const float> value) {
  if (rows < 0 || cols < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR shape ", rows, " x ", cols,
                     " is negative, expected rows >= 0 and cols >= 0"));
  }
  if (cols > int64_t{1} << 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR cols ", cols,
                     " exceeds the uint32 index range, expected <= 2^32"));
  }
  if (row.size() != col.size() || row.size() != value.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "triplet arrays have lengths row=", row.size(), " col=", col.size(),
        " value=", value.size(), ", expected equal lengths"));
  }
  const size_t n = row.size();
  // Counting sort by row: indptr[r + 1] counts row r, then becomes the start
  // of row r + 1; during the scatter indptr[r] advances from the start of
  // row r to its end, and a final shift restores the starts.
  std::vector<int64_t> indptr(rows + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    if (row[i] >= rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "triplet ", i, ": row ", row[i], " out of range, expected < ", rows));
    }
    if (col[i] >= cols) {
      return absl::InvalidArgumentError(absl::StrCat(
          "triplet ", i, ": col ", col[i], " out of range, expected < ", cols));
    }
    ++indptr[row[i] + 1];
  }
  for (int64_t r = 0; r < rows; ++r) indptr[r + 1] += indptr[r];
  std::vector<uint32_t> indices;
  ResizeWithHugePages(indices, n);
  std::vector<float> values;
  ResizeWithHugePages(values, n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t pos = indptr[row[i]]++;
    indices[pos] = col[i];
    values[pos] = value[i];
  }
  for (int64_t r = rows; r > 0; --r) indptr[r] = indptr[r - 1];
  indptr[0] = 0;
  csr_internal::SortRowsAndMergeDuplicates(indptr, indices, values, nullptr);
  return CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                   std::move(values));
}

CsrMatrix CsrMatrix::Transpose() const {
  std::vector<int64_t> indptr(cols_ + 1, 0);
  for (const uint32_t c : indices_) ++indptr[c + 1];
  for (int64_t c = 0; c < cols_; ++c) indptr[c + 1] += indptr[c];
  std::vector<uint32_t> indices;
  ResizeWithHugePages(indices, indices_.size());
  std::vector<float> values;
  ResizeWithHugePages(values, values_.size());
  // Rows are visited in ascending order, so each output row comes out
  // sorted by column without a separate sort.
  for (int64_t r = 0; r < rows_; ++r) {
    for (int64_t i = indptr_[r]; i < indptr_[r + 1]; ++i) {
      const int64_t pos = indptr[indices_[i]]++;
      indices[pos] = static_cast<uint32_t>(r);
      values[pos] = values_[i];
    }
  }
  for (int64_t c = cols_; c > 0; --c) indptr[c] = indptr[c - 1];
  indptr[0] = 0;
  return CsrMatrix(cols_, rows_, std::move(indptr), std::move(indices),
                   std::move(values));
}

int64_t CsrMatrix::MemoryBytes() const {
  return static_cast<int64_t>(indptr_.size() * sizeof(int64_t) +
                              indices_.size() * sizeof(uint32_t) +
                              values_.size() * sizeof(float));
}

}  // namespace affinity
