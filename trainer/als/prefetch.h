// Software prefetch of factor rows. Solvers visit rows in the scattered
// order of a CSR row's column indices, which hardware prefetchers cannot
// predict; asking for the row kPrefetchDistance entries ahead hides most of
// the memory latency. Prefetching never changes results.
#ifndef AFFINITY_TRAINER_ALS_PREFETCH_H_
#define AFFINITY_TRAINER_ALS_PREFETCH_H_

#include <cstdint>

namespace affinity {

inline constexpr int64_t kPrefetchDistance = 8;

// Prefetches the f floats at row into all cache levels.
inline void PrefetchRow(const float* row, int f) {
  const char* p = reinterpret_cast<const char*>(row);
  const int bytes = f * static_cast<int>(sizeof(float));
  for (int offset = 0; offset < bytes; offset += 64) {
    __builtin_prefetch(p + offset, 0, 3);
  }
}

// Prefetches row indices[k + kPrefetchDistance] of the row-major matrix at
// data (f columns) when that entry exists.
inline void PrefetchAhead(const float* data, int f, const uint32_t* indices,
                          int64_t k, int64_t n) {
  if (k + kPrefetchDistance < n) {
    PrefetchRow(data + static_cast<int64_t>(indices[k + kPrefetchDistance]) * f,
                f);
  }
}

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_PREFETCH_H_
