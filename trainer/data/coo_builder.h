// Accumulates (row, col, value[, timestamp]) entries one at a time and turns
// them into a CsrMatrix, for producers that do not know the final shape up
// front (such as a file reader interning ids as it streams).
//
// Contract:
//  - Entries are stored in fixed-size blocks (no reallocation copies while
//    growing); Build() scatters them block by block into the CSR arrays and
//    frees each block as soon as it has been consumed, so the peak is the
//    entries plus the CSR arrays, never two copies of the entries.
//  - Duplicate (row, col) entries are summed in insertion order; the merged
//    timestamp is the largest one.
//  - With timestamps enabled, Build() returns one timestamp per CSR entry,
//    aligned with matrix.indices(); otherwise timestamps is empty.
#ifndef AFFINITY_TRAINER_DATA_COO_BUILDER_H_
#define AFFINITY_TRAINER_DATA_COO_BUILDER_H_

#include <cstdint>
#include <memory>
#include <vector>

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

  // The timestamp is ignored unless timestamps are enabled.
  void Add(uint32_t row, uint32_t col, float value, int64_t timestamp = 0) {
    if (fill_ == kBlockEntries) NewBlock();
    Block& b = *blocks_.back();
    b.rows[fill_] = row;
    b.cols[fill_] = col;
    b.values[fill_] = value;
    if (with_timestamps_) b.timestamps[fill_] = timestamp;
    ++fill_;
    ++size_;
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
  void NewBlock();

  bool with_timestamps_;
  std::vector<std::unique_ptr<Block>> blocks_;
  int64_t fill_ = kBlockEntries;  // entries used in the last block
  int64_t size_ = 0;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_COO_BUILDER_H_
