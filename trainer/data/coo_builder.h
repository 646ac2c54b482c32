// Accumulates (row, col, value[, timestamp]) entries one at a time and turns
// them into a CsrMatrix, for producers that do not know the final shape up
// front (such as a file reader interning ids as it streams).
//
// Contract:
//  - While entries arrive with non-decreasing rows (a file grouped by user),
//    they are appended straight into what become the CSR arrays: Build()
//    only sorts each row by column, and memory is one copy of the entries.
//  - From the first entry whose row is smaller than its predecessor's, later
//    entries go to fixed-size blocks; Build() then scatters everything into
//    new CSR arrays (stable counting sort by row), freeing each block once
//    consumed. The peak is the entries plus the CSR arrays.
//  - Duplicate (row, col) entries are summed in insertion order; the merged
//    timestamp is the largest one.
//  - With timestamps enabled, Build() returns one timestamp per CSR entry,
//    aligned with matrix.indices(); otherwise timestamps is empty.
#ifndef AFFINITY_TRAINER_DATA_COO_BUILDER_H_
#define AFFINITY_TRAINER_DATA_COO_BUILDER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/statusor.h"
#include "trainer/data/csr.h"
#include "trainer/data/huge_pages.h"

namespace affinity {

class CooBuilder {
 public:
  struct Result {
    CsrMatrix matrix;
    std::vector<int64_t> timestamps;  // empty unless timestamps were enabled
    int64_t duplicates_merged = 0;    // entries folded into an earlier one
  };

  explicit CooBuilder(bool with_timestamps);
  CooBuilder(const CooBuilder&) = delete;
  CooBuilder& operator=(const CooBuilder&) = delete;

  bool with_timestamps() const { return with_timestamps_; }
  int64_t size() const { return size_; }
  // True while every entry so far came in non-decreasing row order.
  bool sequential() const { return sequential_; }

  // Expected total number of entries: sizes the sequential arrays (address
  // space only; pages are touched as entries are written).
  void Reserve(int64_t entries);

  // The timestamp is ignored unless timestamps are enabled.
  void Add(uint32_t row, uint32_t col, float value, int64_t timestamp = 0) {
    ++size_;
    if (ABSL_PREDICT_TRUE(sequential_)) {
      if (ABSL_PREDICT_TRUE(row == last_row_)) {
        AppendSequential(col, value, timestamp);
        return;
      }
      if (row > last_row_) {
        StartRows(row);
        AppendSequential(col, value, timestamp);
        return;
      }
      sequential_ = false;
    }
    if (fill_ == kBlockEntries) NewBlock();
    Block& b = *blocks_.back();
    b.rows[fill_] = row;
    b.cols[fill_] = col;
    b.values[fill_] = value;
    if (with_timestamps_) b.timestamps[fill_] = timestamp;
    ++fill_;
  }

  // Consumes the entries (the builder is empty afterwards). Every row must
  // be < rows and every col < cols, else InvalidArgument.
  absl::StatusOr<Result> Build(int64_t rows, int64_t cols);

 private:
  static constexpr int64_t kBlockEntries = int64_t{1} << 20;
  struct Block {
    HugeArray<uint32_t> rows;
    HugeArray<uint32_t> cols;
    HugeArray<float> values;
    HugeArray<int64_t> timestamps;
  };
  void AppendSequential(uint32_t col, float value, int64_t timestamp) {
    if (ABSL_PREDICT_FALSE(seq_cols_.size() == seq_cols_.capacity())) {
      Grow(2 * seq_cols_.capacity());
    }
    seq_cols_.push_back(col);
    seq_values_.push_back(value);
    if (with_timestamps_) seq_timestamps_.push_back(timestamp);
  }
  void StartRows(uint32_t row);
  void Grow(size_t capacity);
  void NewBlock();
  absl::StatusOr<Result> BuildSequential(int64_t rows, int64_t cols);
  absl::StatusOr<Result> BuildScattered(int64_t rows, int64_t cols);
  void Clear();

  bool with_timestamps_;
  bool sequential_ = true;
  int64_t size_ = 0;
  // Entries in sequential order; row r of them is
  // [seq_indptr_[r], seq_indptr_[r + 1]) with the last row open-ended.
  uint32_t last_row_ = 0;
  std::vector<int64_t> seq_indptr_{0};
  std::vector<uint32_t> seq_cols_;
  std::vector<float> seq_values_;
  std::vector<int64_t> seq_timestamps_;
  // Entries after the order broke.
  std::vector<std::unique_ptr<Block>> blocks_;
  int64_t fill_ = kBlockEntries;  // entries used in the last block
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_COO_BUILDER_H_
