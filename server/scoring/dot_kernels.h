// Inner products of many item rows with one or several queries: the inner
// loop of exact scoring. Rows and queries are `stride` floats long with
// stride a multiple of 16 (see ItemMatrix); AVX-512 or AVX2/FMA intrinsics
// are used when the build targets them, portable code otherwise.
#ifndef AFFINITY_SERVER_SCORING_DOT_KERNELS_H_
#define AFFINITY_SERVER_SCORING_DOT_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace affinity::server {

// out[i] = <rows[i], query> for i in [0, n).
void DotRows(const float* rows, size_t n, size_t stride, const float* query,
             float* out);
// out[i] = <rows[i] * row_scales[i], query>: each element is multiplied by
// its row's scale (rounded to float) before the product, so the results
// equal DotRows over a copy of the rows scaled that way, bit for bit.
void DotRowsScaled(const float* rows, size_t n, size_t stride, const float* query,
                   const float* row_scales, float* out);

// Several queries at once, laid out for DotRowsMulti: `dims` x width
// floats, query q's element d at [d * width + q], zero beyond nq. Build it
// once per batch; width = MultiQueryWidth(nq).
size_t MultiQueryWidth(size_t nq);
void TransposeQueries(const float* const* queries, size_t nq, size_t dims, float* out);

// out[i * width + q] = <rows[i], query q> for i in [0, n), q in [0, width),
// with `transposed` from TransposeQueries. Each item row is read once and
// every query is scored against it with lane-parallel FMAs (no horizontal
// sums), so a batch costs about one pass over memory.
void DotRowsMulti(const float* rows, size_t n, size_t stride, size_t dims,
                  const float* transposed, size_t width, float* out);
// DotRowsMulti over rows[i] * row_scales[i], equal bit for bit to
// DotRowsMulti over a copy of the rows scaled that way.
void DotRowsMultiScaled(const float* rows, size_t n, size_t stride, size_t dims,
                        const float* row_scales, const float* transposed, size_t width,
                        float* out);

// out[i] = <rows[i], query> for i in [0, n), computed exactly as one lane
// of DotRowsMulti computes it (one fused multiply-add per dimension, in
// dimension order, from 0), so a query scored alone gets the very scores it
// gets in a batch; rows are processed a register width at a time (lane =
// row, through an in-register transpose), a fraction of what DotRowsMulti
// spends on a single query.
void DotRowsLanes(const float* rows, size_t n, size_t stride, size_t dims, const float* query,
                  float* out);
// DotRowsLanes over rows gathered by index: out[i] = <row indices[i] of
// `base`, query>, the same arithmetic (so the same bits) as DotRowsLanes over
// those rows copied side by side. Rows must be aligned like ItemMatrix's.
void DotRowsLanesGather(const float* base, size_t stride, const uint32_t* indices, size_t n,
                        size_t dims, const float* query, float* out);
// DotRowsLanes over rows[i] * row_scales[i]: a DotRowsMultiScaled lane's
// scores, bit for bit.
void DotRowsLanesScaled(const float* rows, size_t n, size_t stride, size_t dims,
                        const float* row_scales, const float* query, float* out);

// Bit j set when a[j] >= threshold (never for NaN), for j in [0, n), n <= 64.
uint64_t AtOrAboveMask(const float* a, size_t n, float threshold);
// Bit j % 64 of masks[j / 64] set when a[j] >= b[j] (never for NaN), for j
// in [0, n); the (n + 63) / 64 words are written whole. True when any bit is
// set. n is a multiple of MultiQueryWidth's lane count.
bool AtLeastMasks(const float* a, const float* b, size_t n, uint64_t* masks);

// Name of the instruction set the kernels were compiled for.
const char* DotKernelIsa();

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_DOT_KERNELS_H_
