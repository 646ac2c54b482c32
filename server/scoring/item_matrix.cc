#include "server/scoring/item_matrix.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "server/scoring/scan_memory.h"

namespace affinity::server {

void ItemMatrix::FreeDeleter::operator()(float* p) const { std::free(p); }

ItemMatrix::ItemMatrix(size_t rows, size_t dims)
    : rows_(rows), dims_(dims), stride_(StrideFor(dims)) {
  // A size that does not fit in size_t cannot be allocated either.
  constexpr size_t kMaxBytes = std::numeric_limits<size_t>::max() - 63;
  if (stride_ < dims_ || (stride_ > 0 && rows_ > kMaxBytes / sizeof(float) / stride_)) {
    throw std::bad_alloc();
  }
  size_t bytes = std::max<size_t>(rows_ * stride_ * sizeof(float), 64);
  void* p = AllocateScanMemory(bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(static_cast<float*>(p));
}

std::unique_ptr<ItemMatrix> ItemMatrix::FromDense(absl::Span<const float> dense,
                                                  size_t rows, size_t dims) {
  auto m = std::make_unique<ItemMatrix>(rows, dims);
  for (size_t i = 0; i < rows && (i + 1) * dims <= dense.size(); ++i) {
    std::memcpy(m->mutable_row(i), dense.data() + i * dims, dims * sizeof(float));
  }
  return m;
}

std::vector<float> ItemMatrix::InverseNorms() const {
  std::vector<float> out(rows_, 0.0f);
  for (size_t i = 0; i < rows_; ++i) {
    const float* src = row(i);
    double norm2 = 0;
    for (size_t d = 0; d < dims_; ++d) norm2 += double{src[d]} * src[d];
    if (norm2 <= 0) continue;
    out[i] = static_cast<float>(1.0 / std::sqrt(norm2));
  }
  return out;
}

void ItemMatrix::ExpandPackedRows() {
  if (stride_ == dims_) return;
  // Row i moves from i * dims to i * stride >= i * dims: last row first,
  // so no row is overwritten before it has moved.
  for (size_t i = rows_; i-- > 0;) {
    float* dst = mutable_row(i);
    std::memmove(dst, data_.get() + i * dims_, dims_ * sizeof(float));
    std::memset(dst + dims_, 0, (stride_ - dims_) * sizeof(float));
  }
}

std::vector<float> ItemMatrix::PadQuery(absl::Span<const float> query) const {
  std::vector<float> padded(stride_, 0.0f);
  std::memcpy(padded.data(), query.data(),
              std::min(query.size(), dims_) * sizeof(float));
  return padded;
}

}  // namespace affinity::server
