#include "server/scoring/int8_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "server/scoring/scan_memory.h"

namespace affinity::server {
namespace {

// round(x / scale) clamped to [-127, 127]; 0 when scale is 0.
inline int8_t QuantizeValue(float x, float inv_scale) {
  const float v = std::nearbyint(x * inv_scale);
  return static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
}

float MaxAbs(const float* v, size_t n) {
  float m = 0;
  for (size_t d = 0; d < n; ++d) {
    const float a = std::fabs(v[d]);
    if (std::isnan(a)) return a;  // refused by the caller, like infinities
    m = std::max(m, a);
  }
  return m;
}

}  // namespace

void Int8Matrix::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

Int8Matrix::Int8Matrix(const ItemMatrix& items) : Int8Matrix(items, {}) {}

Int8Matrix::Int8Matrix(const ItemMatrix& items, absl::Span<const uint32_t> order)
    : rows_(order.empty() ? items.rows() : order.size()),
      dims_(items.dims()),
      groups_((items.dims() + 3) / 4) {
  const size_t nblocks = blocks();
  if (groups_ > 0 && nblocks > std::numeric_limits<size_t>::max() / block_bytes()) {
    throw std::bad_alloc();
  }
  const size_t bytes = std::max<size_t>(nblocks * block_bytes(), 64);
  void* p = AllocateScanMemory(bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 128, bytes);  // value 0 everywhere, padding included
  data_.reset(static_cast<uint8_t*>(p));
  scales_.assign(nblocks * kInt8BlockRows, 0.0f);
  std::vector<uint8_t> biased(groups_ * 4, 128);
  for (size_t i = 0; i < rows_; ++i) {
    const uint32_t source = order.empty() ? static_cast<uint32_t>(i) : order[i];
    if (source == kNoRow) continue;  // stays 0
    const float* row = items.row(source);
    const float max_abs = MaxAbs(row, dims_);
    if (!(max_abs > 0) || !std::isfinite(max_abs)) continue;  // stays 0
    scales_[i] = max_abs / 127.0f;
    const float inv = 127.0f / max_abs;
    for (size_t d = 0; d < dims_; ++d) {
      biased[d] = static_cast<uint8_t>(QuantizeValue(row[d], inv) + 128);
    }
    uint8_t* dst = data_.get() + (i / kInt8BlockRows) * block_bytes() + (i % kInt8BlockRows) * 4;
    for (size_t g = 0; g < groups_; ++g) {
      std::memcpy(dst + g * kInt8BlockGroupBytes, biased.data() + g * 4, 4);
    }
  }
}

int32_t Int8Matrix::value(size_t i, size_t d) const {
  const uint8_t* b = block(i / kInt8BlockRows);
  return static_cast<int32_t>(b[(d / 4) * kInt8BlockGroupBytes + (i % kInt8BlockRows) * 4 + d % 4]) -
         128;
}

size_t Int8Matrix::BytesFor(size_t rows, size_t dims) {
  const size_t padded_rows = (rows + kInt8BlockRows - 1) / kInt8BlockRows * kInt8BlockRows;
  return padded_rows * ((dims + 3) / 4 * 4 + sizeof(float));
}

Int8Query Int8Matrix::Quantize(absl::Span<const float> query) const {
  Int8Query out;
  out.values.assign(groups_ * 4, 0);
  const size_t n = std::min(query.size(), dims_);
  const float max_abs = MaxAbs(query.data(), n);
  if (!(max_abs > 0) || !std::isfinite(max_abs)) return out;
  out.scale = max_abs / 127.0f;
  const float inv = 127.0f / max_abs;
  for (size_t d = 0; d < n; ++d) out.values[d] = QuantizeValue(query[d], inv);
  return out;
}

}  // namespace affinity::server
