// Inner products of many item rows with one or several queries: the inner
// loop of exact scoring. Rows and queries are `stride` floats long with
// stride a multiple of 16 (see ItemMatrix); AVX-512 or AVX2/FMA intrinsics
// are used when the build targets them, portable code otherwise.
#ifndef AFFINITY_SERVER_DOT_KERNELS_H_
#define AFFINITY_SERVER_DOT_KERNELS_H_

#include <cstddef>

namespace affinity::server {

// out[i] = <rows[i], query> for i in [0, n).
void DotRows(const float* rows, size_t n, size_t stride, const float* query,
             float* out);

// out[q * n + i] = <rows[i], queries[q]> for q in [0, nq), i in [0, n).
// The rows are read once per call; callers pass a block small enough to
// stay in cache while every query is scored against it.
void DotRowsMulti(const float* rows, size_t n, size_t stride,
                  const float* const* queries, size_t nq, float* out);

// Name of the instruction set the kernels were compiled for.
const char* DotKernelIsa();

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_DOT_KERNELS_H_
