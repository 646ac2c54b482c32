#include "trainer/data/csr_rows.h"

#include <algorithm>

namespace affinity::csr_internal {
namespace {

// Sorts row entries [begin, end) by column, keeping the original order among
// equal columns, by sorting (column << 32 | position) keys and gathering.
void SortRow(int64_t begin, int64_t end, uint32_t* idx, float* val, int64_t* ts,
             std::vector<uint64_t>& keys, std::vector<float>& value_copy,
             std::vector<int64_t>& ts_copy) {
  const int64_t n = end - begin;
  keys.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = uint64_t{idx[begin + i]} << 32 | static_cast<uint64_t>(i);
  }
  std::sort(keys.begin(), keys.end());
  value_copy.assign(val + begin, val + end);
  if (ts != nullptr) ts_copy.assign(ts + begin, ts + end);
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t from = static_cast<uint32_t>(keys[i]);
    idx[begin + i] = static_cast<uint32_t>(keys[i] >> 32);
    val[begin + i] = value_copy[from];
    if (ts != nullptr) ts[begin + i] = ts_copy[from];
  }
}

}  // namespace

int64_t SortRowsAndMergeDuplicates(std::vector<int64_t>& indptr,
                                   std::vector<uint32_t>& indices,
                                   std::vector<float>& values,
                                   std::vector<int64_t>* timestamps) {
  const int64_t rows = static_cast<int64_t>(indptr.size()) - 1;
  int64_t* ts = timestamps != nullptr ? timestamps->data() : nullptr;
  uint32_t* idx = indices.data();
  float* val = values.data();
  std::vector<uint64_t> keys;
  std::vector<float> value_copy;
  std::vector<int64_t> ts_copy;
  int64_t write = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t begin = indptr[r];
    const int64_t end = indptr[r + 1];
    indptr[r] = write;
    if (!std::is_sorted(idx + begin, idx + end)) {
      SortRow(begin, end, idx, val, ts, keys, value_copy, ts_copy);
    }
    const int64_t row_start = write;
    for (int64_t i = begin; i < end; ++i) {
      if (write > row_start && idx[write - 1] == idx[i]) {
        val[write - 1] += val[i];
        if (ts != nullptr) ts[write - 1] = std::max(ts[write - 1], ts[i]);
        continue;
      }
      idx[write] = idx[i];
      val[write] = val[i];
      if (ts != nullptr) ts[write] = ts[i];
      ++write;
    }
  }
  const int64_t removed = indptr[rows] - write;
  indptr[rows] = write;
  if (removed > 0) {
    indices.resize(write);
    values.resize(write);
    ShrinkIfWasteful(indices);
    ShrinkIfWasteful(values);
    if (timestamps != nullptr) {
      timestamps->resize(write);
      ShrinkIfWasteful(*timestamps);
    }
  }
  return removed;
}

}  // namespace affinity::csr_internal
