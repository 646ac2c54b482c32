#include "trainer/data/coo_builder.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "trainer/data/csr_rows.h"
#include "trainer/data/huge_pages.h"

namespace affinity {

CooBuilder::CooBuilder(bool with_timestamps)
    : with_timestamps_(with_timestamps) {}

void CooBuilder::NewBlock() {
  auto block = std::make_unique<Block>();
  block->rows = AllocateHugeArray<uint32_t>(kBlockEntries);
  block->cols = AllocateHugeArray<uint32_t>(kBlockEntries);
  block->values = AllocateHugeArray<float>(kBlockEntries);
  if (with_timestamps_) {
    block->timestamps = AllocateHugeArray<int64_t>(kBlockEntries);
  }
  blocks_.push_back(std::move(block));
  fill_ = 0;
}

absl::StatusOr<CooBuilder::Result> CooBuilder::Build(int64_t rows,
                                                     int64_t cols) {
  if (rows < 0 || cols < 0 || cols > (int64_t{1} << 32)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR shape ", rows, " x ", cols,
                     " is invalid, expected 0 <= rows and 0 <= cols <= 2^32"));
  }
  auto block_size = [&](size_t b) {
    return b + 1 == blocks_.size() ? fill_ : kBlockEntries;
  };
  std::vector<int64_t> indptr(rows + 1, 0);
  int64_t seen = 0;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = *blocks_[b];
    const int64_t n = block_size(b);
    for (int64_t i = 0; i < n; ++i, ++seen) {
      if (block.rows[i] >= rows || block.cols[i] >= cols) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entry ", seen, " at (", block.rows[i], ", ", block.cols[i],
            ") is outside the ", rows, " x ", cols, " matrix"));
      }
      ++indptr[block.rows[i] + 1];
    }
  }
  for (int64_t r = 0; r < rows; ++r) indptr[r + 1] += indptr[r];

  // Stable counting sort by row; see CsrMatrix::FromTriplets for the indptr
  // bookkeeping.
  std::vector<uint32_t> indices;
  std::vector<float> values;
  std::vector<int64_t> timestamps;
  ResizeWithHugePages(indices, size_);
  ResizeWithHugePages(values, size_);
  if (with_timestamps_) ResizeWithHugePages(timestamps, size_);
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = *blocks_[b];
    const int64_t n = block_size(b);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pos = indptr[block.rows[i]]++;
      indices[pos] = block.cols[i];
      values[pos] = block.values[i];
      if (with_timestamps_) timestamps[pos] = block.timestamps[i];
    }
    blocks_[b].reset();
  }
  blocks_.clear();
  blocks_.shrink_to_fit();
  fill_ = kBlockEntries;
  size_ = 0;
  for (int64_t r = rows; r > 0; --r) indptr[r] = indptr[r - 1];
  indptr[0] = 0;

  Result result;
  result.duplicates_merged = csr_internal::SortRowsAndMergeDuplicates(
      indptr, indices, values, with_timestamps_ ? &timestamps : nullptr);
  result.matrix = CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                            std::move(values));
  result.timestamps = std::move(timestamps);
  return result;
}

}  // namespace affinity
