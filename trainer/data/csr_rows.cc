#include "trainer/data/csr_rows.h"

#include <algorithm>

namespace affinity::csr_internal {
namespace {

struct Entry {
  uint32_t col;
  uint32_t pos;  // position in the row before sorting, keeps the sort stable
  float value;
  int64_t timestamp;
};

}  // namespace

int64_t SortRowsAndMergeDuplicates(std::vector<int64_t>& indptr,
                                   std::vector<uint32_t>& indices,
                                   std::vector<float>& values,
                                   std::vector<int64_t>* timestamps) {
  const int64_t rows = static_cast<int64_t>(indptr.size()) - 1;
  int64_t* ts = timestamps != nullptr ? timestamps->data() : nullptr;
  uint32_t* idx = indices.data();
  float* val = values.data();
  std::vector<Entry> scratch;
  int64_t write = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t begin = indptr[r];
    const int64_t end = indptr[r + 1];
    indptr[r] = write;
    if (!std::is_sorted(idx + begin, idx + end)) {
      scratch.clear();
      for (int64_t i = begin; i < end; ++i) {
        scratch.push_back(Entry{idx[i], static_cast<uint32_t>(i - begin),
                                val[i], ts != nullptr ? ts[i] : 0});
      }
      std::sort(scratch.begin(), scratch.end(),
                [](const Entry& a, const Entry& b) {
                  return a.col != b.col ? a.col < b.col : a.pos < b.pos;
                });
      for (int64_t i = begin; i < end; ++i) {
        const Entry& e = scratch[i - begin];
        idx[i] = e.col;
        val[i] = e.value;
        if (ts != nullptr) ts[i] = e.timestamp;
      }
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
