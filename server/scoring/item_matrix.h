// ItemMatrix: every item vector of one model in one contiguous, 64-byte
// aligned, row-major float32 block. Rows are padded with zeros to a stride
// that is a multiple of 16 floats so SIMD kernels never need a scalar tail;
// queries scored against it must be padded the same way (PadQuery).
#ifndef AFFINITY_SERVER_SCORING_ITEM_MATRIX_H_
#define AFFINITY_SERVER_SCORING_ITEM_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"

namespace affinity::server {

class ItemMatrix {
 public:
  // rows x dims, zero-filled. Throws std::bad_alloc when the block cannot
  // be allocated, its size overflowing size_t included (the model loader
  // turns that into a status).
  ItemMatrix(size_t rows, size_t dims);
  ItemMatrix(const ItemMatrix&) = delete;
  ItemMatrix& operator=(const ItemMatrix&) = delete;

  // Copies a dense rows x dims row-major block (no padding).
  static std::unique_ptr<ItemMatrix> FromDense(absl::Span<const float> dense,
                                               size_t rows, size_t dims);

  size_t rows() const { return rows_; }
  size_t dims() const { return dims_; }
  size_t stride() const { return stride_; }
  const float* data() const { return data_.get(); }
  float* mutable_data() { return data_.get(); }
  const float* row(size_t i) const { return data_.get() + i * stride_; }
  float* mutable_row(size_t i) { return data_.get() + i * stride_; }

  // Per row, 1 / its Euclidean norm (computed in double, rounded to
  // float; 0 for a zero row): row i times entry i has unit norm.
  std::vector<float> InverseNorms() const;

  // For a matrix whose first rows x dims floats were filled with the rows
  // back to back (e.g. read from the store straight into mutable_data()):
  // moves every row to its padded place and zeroes the padding, in place.
  void ExpandPackedRows();

  // The query as a stride-long vector, zero padded.
  std::vector<float> PadQuery(absl::Span<const float> query) const;

  static size_t StrideFor(size_t dims) { return (dims + 15) / 16 * 16; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  size_t rows_;
  size_t dims_;
  size_t stride_;
  std::unique_ptr<float[], FreeDeleter> data_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_ITEM_MATRIX_H_
