// Int8Matrix: an int8 copy of an ItemMatrix for the candidate scan, each row
// quantised symmetrically with its own scale (row ~= scale * r, r integer
// in [-127, 127], scale = max |row| / 127), stored in the block layout of
// int8_kernels.h. About a quarter of the float matrix's bytes plus 4 per
// row. Immutable once built; thread-safe to read. Construction throws
// std::bad_alloc when the blocks cannot be allocated (the model loader turns
// that into a status).
#ifndef AFFINITY_SERVER_SCORING_INT8_MATRIX_H_
#define AFFINITY_SERVER_SCORING_INT8_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {

// A query quantised the same way: values = round(query / scale), padded
// with zeros to groups * 4 bytes.
struct Int8Query {
  std::vector<int8_t> values;
  float scale = 0;
};

class Int8Matrix {
 public:
  // Marks a row of an ordered copy that holds no item (all zero, scale 0).
  static constexpr uint32_t kNoRow = 0xFFFFFFFFu;

  explicit Int8Matrix(const ItemMatrix& items);
  // Row i holds items' row order[i] (kNoRow: none), e.g. rows grouped by
  // cluster (ivf_scorer.h); every order[i] is kNoRow or < items.rows().
  // An empty order keeps every row in place, as the constructor above.
  Int8Matrix(const ItemMatrix& items, absl::Span<const uint32_t> order);
  Int8Matrix(const Int8Matrix&) = delete;
  Int8Matrix& operator=(const Int8Matrix&) = delete;

  size_t rows() const { return rows_; }
  size_t dims() const { return dims_; }
  // Groups of 4 dims per row, and blocks of kInt8BlockRows rows.
  size_t groups() const { return groups_; }
  size_t blocks() const { return (rows_ + kInt8BlockRows - 1) / kInt8BlockRows; }
  size_t block_bytes() const { return groups_ * kInt8BlockGroupBytes; }
  const uint8_t* block(size_t b) const { return data_.get() + b * block_bytes(); }
  // Per row (padded to whole blocks with 0).
  const float* scales() const { return scales_.data(); }
  // The integer value of row i, dim d (tests).
  int32_t value(size_t i, size_t d) const;
  // Bytes held (blocks and scales).
  size_t bytes() const { return BytesFor(rows_, dims_); }
  // What a copy of `rows` rows of `dims` dims holds, before it is made.
  static size_t BytesFor(size_t rows, size_t dims);

  Int8Query Quantize(absl::Span<const float> query) const;

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  size_t rows_;
  size_t dims_;
  size_t groups_;
  std::unique_ptr<uint8_t[], FreeDeleter> data_;
  std::vector<float> scales_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INT8_MATRIX_H_
