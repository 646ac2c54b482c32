// Compressed sparse row matrix of float weights, the trainer's one
// representation of interactions. Built once; solvers read rows as views
// (spans into the arrays), never as copies.
#ifndef AFFINITY_TRAINER_DATA_CSR_H_
#define AFFINITY_TRAINER_DATA_CSR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace affinity {

class CsrMatrix {
 public:
  // A read-only view of one row: parallel spans of column indices (sorted,
  // unique) and values.
  struct Row {
    absl::Span<const uint32_t> indices;
    absl::Span<const float> values;
    size_t size() const { return indices.size(); }
  };

  CsrMatrix() = default;
  // Takes ownership of well-formed arrays: indptr has rows + 1 ascending
  // entries starting at 0 and ending at indices.size(); every index < cols.
  CsrMatrix(int64_t rows, int64_t cols, std::vector<int64_t> indptr,
            std::vector<uint32_t> indices, std::vector<float> values);

  // Builds from coordinate triplets. Duplicate (row, col) entries are summed.
  // Every row < rows and col < cols, else InvalidArgument.
  static absl::StatusOr<CsrMatrix> FromTriplets(int64_t rows, int64_t cols,
                                                absl::Span<const uint32_t> row,
                                                absl::Span<const uint32_t> col,
                                                absl::Span<const float> value);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t nnz() const { return static_cast<int64_t>(indices_.size()); }

  Row row(int64_t r) const {
    const int64_t begin = indptr_[r], end = indptr_[r + 1];
    return Row{absl::MakeConstSpan(indices_.data() + begin, end - begin),
               absl::MakeConstSpan(values_.data() + begin, end - begin)};
  }

  // The column-major counterpart: row c of the result is column c of this.
  CsrMatrix Transpose() const;

  const std::vector<int64_t>& indptr() const { return indptr_; }
  const std::vector<uint32_t>& indices() const { return indices_; }
  const std::vector<float>& values() const { return values_; }
  // Values may be rescaled in place; the sparsity structure stays fixed.
  absl::Span<float> mutable_values() { return absl::MakeSpan(values_); }

  // Bytes of the elements of the three arrays. (Spare vector capacity is not
  // counted: builders leave at most an eighth of written-to spare, and
  // capacity that was never written costs no memory.)
  int64_t MemoryBytes() const;

 private:
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  std::vector<int64_t> indptr_{0};
  std::vector<uint32_t> indices_;
  std::vector<float> values_;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_CSR_H_
