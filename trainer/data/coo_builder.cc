#include "trainer/data/coo_builder.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "trainer/data/csr_rows.h"

namespace affinity {
namespace {

// Moves v into storage of `capacity` elements advised for huge pages.
template <typename T>
void Regrow(std::vector<T>& v, size_t capacity) {
  if (capacity <= v.capacity()) return;
  std::vector<T> grown;
  grown.reserve(capacity);
  AdviseHugePages(grown.data(), capacity * sizeof(T));
  grown.insert(grown.end(), v.begin(), v.end());
  v.swap(grown);
}

template <typename T>
void Release(std::vector<T>& v) {
  std::vector<T>().swap(v);
}

}  // namespace

CooBuilder::CooBuilder(bool with_timestamps)
    : with_timestamps_(with_timestamps) {}

void CooBuilder::Grow(size_t capacity) {
  capacity = std::max<size_t>(capacity, 1024);
  Regrow(seq_cols_, capacity);
  Regrow(seq_values_, capacity);
  if (with_timestamps_) Regrow(seq_timestamps_, capacity);
}

void CooBuilder::Reserve(int64_t entries) {
  if (sequential_ && entries > 0) Grow(static_cast<size_t>(entries));
}

void CooBuilder::StartRows(uint32_t row) {
  // Rows last_row_ + 1 .. row start here (rows before the first entry are
  // empty and start at 0).
  const int64_t here = static_cast<int64_t>(seq_cols_.size());
  while (seq_indptr_.size() <= row) seq_indptr_.push_back(here);
  last_row_ = row;
}

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

void CooBuilder::Clear() {
  sequential_ = true;
  size_ = 0;
  last_row_ = 0;
  seq_indptr_.assign(1, 0);
  Release(seq_cols_);
  Release(seq_values_);
  Release(seq_timestamps_);
  blocks_.clear();
  blocks_.shrink_to_fit();
  fill_ = kBlockEntries;
}

absl::StatusOr<CooBuilder::Result> CooBuilder::Build(int64_t rows,
                                                     int64_t cols) {
  if (rows < 0 || cols < 0 || cols > (int64_t{1} << 32)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR shape ", rows, " x ", cols,
                     " is invalid, expected 0 <= rows and 0 <= cols <= 2^32"));
  }
  if (!seq_cols_.empty() && last_row_ >= rows) {
    const int64_t i = seq_indptr_[last_row_];
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", i, " at (", last_row_, ", ", seq_cols_[i],
                     ") is outside the ", rows, " x ", cols, " matrix"));
  }
  for (size_t i = 0; i < seq_cols_.size(); ++i) {
    if (seq_cols_[i] >= cols) {
      // The row of entry i is the last one starting at or before i.
      const int64_t row =
          std::upper_bound(seq_indptr_.begin(), seq_indptr_.end(),
                           static_cast<int64_t>(i)) -
          seq_indptr_.begin() - 1;
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", i, " at (", row, ", ", seq_cols_[i],
                       ") is outside the ", rows, " x ", cols, " matrix"));
    }
  }
  absl::StatusOr<Result> result = blocks_.empty() ? BuildSequential(rows, cols)
                                                  : BuildScattered(rows, cols);
  Clear();
  return result;
}

absl::StatusOr<CooBuilder::Result> CooBuilder::BuildSequential(int64_t rows,
                                                               int64_t cols) {
  std::vector<int64_t> indptr = std::move(seq_indptr_);
  indptr.resize(rows + 1, static_cast<int64_t>(seq_cols_.size()));
  Result result;
  result.duplicates_merged = csr_internal::SortRowsAndMergeDuplicates(
      indptr, seq_cols_, seq_values_,
      with_timestamps_ ? &seq_timestamps_ : nullptr);
  // Spare capacity left by a generous Reserve() was never written, so it
  // holds address space but no memory; shrinking would copy the arrays.
  result.matrix = CsrMatrix(rows, cols, std::move(indptr), std::move(seq_cols_),
                            std::move(seq_values_));
  result.timestamps = std::move(seq_timestamps_);
  return result;
}

absl::StatusOr<CooBuilder::Result> CooBuilder::BuildScattered(int64_t rows,
                                                              int64_t cols) {
  auto block_size = [&](size_t b) {
    return b + 1 == blocks_.size() ? fill_ : kBlockEntries;
  };
  // Counts: indptr[r + 1] counts row r.
  std::vector<int64_t> indptr(rows + 1, 0);
  const int64_t seq_size = static_cast<int64_t>(seq_cols_.size());
  const int64_t seq_rows =
      seq_size > 0 ? static_cast<int64_t>(seq_indptr_.size()) : 0;
  for (int64_t r = 0; r < seq_rows; ++r) {
    const int64_t end = r + 1 < seq_rows ? seq_indptr_[r + 1] : seq_size;
    indptr[r + 1] += end - seq_indptr_[r];
  }
  int64_t seen = seq_size;
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

  // Stable counting sort by row: sequential entries first, then the blocks
  // in order. indptr[r] advances from the start of row r to its end; a final
  // shift restores the starts.
  std::vector<uint32_t> indices;
  std::vector<float> values;
  std::vector<int64_t> timestamps;
  ResizeWithHugePages(indices, size_);
  ResizeWithHugePages(values, size_);
  if (with_timestamps_) ResizeWithHugePages(timestamps, size_);
  for (int64_t r = 0; r < seq_rows; ++r) {
    const int64_t end = r + 1 < seq_rows ? seq_indptr_[r + 1] : seq_size;
    for (int64_t i = seq_indptr_[r]; i < end; ++i) {
      const int64_t pos = indptr[r]++;
      indices[pos] = seq_cols_[i];
      values[pos] = seq_values_[i];
      if (with_timestamps_) timestamps[pos] = seq_timestamps_[i];
    }
  }
  Release(seq_cols_);
  Release(seq_values_);
  Release(seq_timestamps_);
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
