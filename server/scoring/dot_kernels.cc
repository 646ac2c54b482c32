#include "server/scoring/dot_kernels.h"

#include <algorithm>
#include <cmath>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace affinity::server {
namespace {

// Scaled kernels multiply each row element by its row's scale before the
// FMA, rounding exactly as a copy of the matrix with scaled rows would.

#if defined(__AVX512F__)

// Row r's 16 floats at d, times its scale when kScaled.
template <bool kScaled>
inline __m512 LoadRow(const float* r, size_t d, const float* scale) {
  const __m512 v = _mm512_load_ps(r + d);
  if constexpr (kScaled) return _mm512_mul_ps(v, _mm512_set1_ps(*scale));
  return v;
}

// Four rows against one query; stride is a multiple of 16.
template <bool kScaled>
inline void Dot4(const float* r0, size_t stride, const float* q, const float* s, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  const float* r1 = r0 + stride;
  const float* r2 = r1 + stride;
  const float* r3 = r2 + stride;
  for (size_t d = 0; d < stride; d += 16) {
    const __m512 qv = _mm512_loadu_ps(q + d);
    a0 = _mm512_fmadd_ps(LoadRow<kScaled>(r0, d, s), qv, a0);
    a1 = _mm512_fmadd_ps(LoadRow<kScaled>(r1, d, s + 1), qv, a1);
    a2 = _mm512_fmadd_ps(LoadRow<kScaled>(r2, d, s + 2), qv, a2);
    a3 = _mm512_fmadd_ps(LoadRow<kScaled>(r3, d, s + 3), qv, a3);
  }
  out[0] = _mm512_reduce_add_ps(a0);
  out[1] = _mm512_reduce_add_ps(a1);
  out[2] = _mm512_reduce_add_ps(a2);
  out[3] = _mm512_reduce_add_ps(a3);
}

template <bool kScaled>
inline float Dot1(const float* r, size_t stride, const float* q, const float* s) {
  __m512 a = _mm512_setzero_ps();
  for (size_t d = 0; d < stride; d += 16) {
    a = _mm512_fmadd_ps(LoadRow<kScaled>(r, d, s), _mm512_loadu_ps(q + d), a);
  }
  return _mm512_reduce_add_ps(a);
}

#elif defined(__AVX2__) && defined(__FMA__)

inline float HorizontalSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 shuf = _mm_movehdup_ps(lo);
  __m128 sums = _mm_add_ps(lo, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

template <bool kScaled>
inline __m256 LoadRow(const float* r, size_t d, const float* scale) {
  const __m256 v = _mm256_load_ps(r + d);
  if constexpr (kScaled) return _mm256_mul_ps(v, _mm256_set1_ps(*scale));
  return v;
}

template <bool kScaled>
inline void Dot4(const float* r0, size_t stride, const float* q, const float* s, float* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  const float* r1 = r0 + stride;
  const float* r2 = r1 + stride;
  const float* r3 = r2 + stride;
  for (size_t d = 0; d < stride; d += 8) {
    const __m256 qv = _mm256_loadu_ps(q + d);
    a0 = _mm256_fmadd_ps(LoadRow<kScaled>(r0, d, s), qv, a0);
    a1 = _mm256_fmadd_ps(LoadRow<kScaled>(r1, d, s + 1), qv, a1);
    a2 = _mm256_fmadd_ps(LoadRow<kScaled>(r2, d, s + 2), qv, a2);
    a3 = _mm256_fmadd_ps(LoadRow<kScaled>(r3, d, s + 3), qv, a3);
  }
  out[0] = HorizontalSum(a0);
  out[1] = HorizontalSum(a1);
  out[2] = HorizontalSum(a2);
  out[3] = HorizontalSum(a3);
}

template <bool kScaled>
inline float Dot1(const float* r, size_t stride, const float* q, const float* s) {
  __m256 a = _mm256_setzero_ps();
  for (size_t d = 0; d < stride; d += 8) {
    a = _mm256_fmadd_ps(LoadRow<kScaled>(r, d, s), _mm256_loadu_ps(q + d), a);
  }
  return HorizontalSum(a);
}

#else

template <bool kScaled>
inline float Dot1(const float* r, size_t stride, const float* q, const float* s) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t d = 0; d < stride; d += 8) {
    for (int j = 0; j < 8; ++j) {
      const float y = kScaled ? r[d + j] * *s : r[d + j];
      acc[j] += y * q[d + j];
    }
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <bool kScaled>
inline void Dot4(const float* r0, size_t stride, const float* q, const float* s, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = Dot1<kScaled>(r0 + j * stride, stride, q, s + j);
}

#endif

template <bool kScaled>
void DotRowsImpl(const float* rows, size_t n, size_t stride, const float* query,
                 const float* row_scales, float* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
#if defined(__AVX512F__) || defined(__AVX2__)
    if (i + 20 <= n) {
      const char* ahead = reinterpret_cast<const char*>(rows + (i + 16) * stride);
      for (size_t b = 0; b < 4 * stride * sizeof(float); b += 64) {
        _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
    }
#endif
    Dot4<kScaled>(rows + i * stride, stride, query, row_scales + i, out + i);
  }
  for (; i < n; ++i) out[i] = Dot1<kScaled>(rows + i * stride, stride, query, row_scales + i);
}

}  // namespace

void DotRows(const float* rows, size_t n, size_t stride, const float* query,
             float* out) {
  DotRowsImpl<false>(rows, n, stride, query, nullptr, out);
}

void DotRowsScaled(const float* rows, size_t n, size_t stride, const float* query,
                   const float* row_scales, float* out) {
  DotRowsImpl<true>(rows, n, stride, query, row_scales, out);
}

#if defined(__AVX512F__)
constexpr size_t kLanes = 16;
#elif defined(__AVX2__) && defined(__FMA__)
constexpr size_t kLanes = 8;
#else
constexpr size_t kLanes = 8;
#endif

size_t MultiQueryWidth(size_t nq) { return (nq + kLanes - 1) / kLanes * kLanes; }

void TransposeQueries(const float* const* queries, size_t nq, size_t dims, float* out) {
  const size_t width = MultiQueryWidth(nq);
  for (size_t d = 0; d < dims; ++d) {
    for (size_t q = 0; q < width; ++q) out[d * width + q] = q < nq ? queries[q][d] : 0.0f;
  }
}

namespace {

#if defined(__AVX512F__)
using Vec = __m512;
inline Vec Zero() { return _mm512_setzero_ps(); }
inline Vec Load(const float* p) { return _mm512_loadu_ps(p); }
inline Vec Broadcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline void Store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
inline Vec Zero() { return _mm256_setzero_ps(); }
inline Vec Load(const float* p) { return _mm256_loadu_ps(p); }
inline Vec Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline void Store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
#else
struct Vec {
  float v[kLanes];
};
inline Vec Zero() { return Vec{}; }
inline Vec Load(const float* p) {
  Vec r;
  for (size_t i = 0; i < kLanes; ++i) r.v[i] = p[i];
  return r;
}
inline Vec Broadcast(const float* p) {
  Vec r;
  for (size_t i = 0; i < kLanes; ++i) r.v[i] = *p;
  return r;
}
inline Vec Fma(Vec a, Vec b, Vec c) {
  for (size_t i = 0; i < kLanes; ++i) c.v[i] += a.v[i] * b.v[i];
  return c;
}
inline void Store(float* p, Vec v) {
  for (size_t i = 0; i < kLanes; ++i) p[i] = v.v[i];
}
#endif

// ROWS item rows against GROUPS lane-groups of queries starting at `group`
// (rows times their scales when kScaled).
template <int ROWS, int GROUPS, bool kScaled>
inline __attribute__((always_inline)) void Tile(const float* rows, size_t stride,
                                                size_t dims, const float* row_scales,
                                                const float* qt, size_t width,
                                                size_t group, float* out) {
  Vec acc[ROWS][GROUPS];
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int g = 0; g < GROUPS; ++g) acc[r][g] = Zero();
  }
  for (size_t d = 0; d < dims; ++d) {
    Vec q[GROUPS];
#pragma GCC unroll 4
    for (int g = 0; g < GROUPS; ++g) q[g] = Load(qt + d * width + (group + g) * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; ++r) {
      float element = rows[r * stride + d];
      if constexpr (kScaled) element *= row_scales[r];
      const Vec y = Broadcast(&element);
#pragma GCC unroll 4
      for (int g = 0; g < GROUPS; ++g) acc[r][g] = Fma(y, q[g], acc[r][g]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int g = 0; g < GROUPS; ++g) Store(out + r * width + (group + g) * kLanes, acc[r][g]);
  }
}

template <bool kScaled>
void DotRowsMultiImpl(const float* rows, size_t n, size_t stride, size_t dims,
                      const float* row_scales, const float* transposed, size_t width,
                      float* out) {
  const size_t groups = width / kLanes;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
#if defined(__AVX512F__) || defined(__AVX2__)
    // Rows a few tiles ahead: each tile takes long enough (dims x width
    // FMAs) for the prefetches to land before they are needed.
    if (i + 24 <= n) {
      const char* ahead = reinterpret_cast<const char*>(rows + (i + 16) * stride);
      for (size_t b = 0; b < 8 * stride * sizeof(float); b += 64) {
        _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
    }
#endif
    size_t g = 0;
    for (; g + 2 <= groups; g += 2) {
      Tile<8, 2, kScaled>(rows + i * stride, stride, dims, row_scales + i, transposed, width, g,
                          out + i * width);
    }
    if (g < groups) {
      Tile<8, 1, kScaled>(rows + i * stride, stride, dims, row_scales + i, transposed, width, g,
                          out + i * width);
    }
  }
  for (; i < n; ++i) {
    for (size_t g = 0; g < groups; ++g) {
      Tile<1, 1, kScaled>(rows + i * stride, stride, dims, row_scales + i, transposed, width, g,
                          out + i * width);
    }
  }
}

}  // namespace

void DotRowsMulti(const float* rows, size_t n, size_t stride, size_t dims,
                  const float* transposed, size_t width, float* out) {
  DotRowsMultiImpl<false>(rows, n, stride, dims, nullptr, transposed, width, out);
}

void DotRowsMultiScaled(const float* rows, size_t n, size_t stride, size_t dims,
                        const float* row_scales, const float* transposed, size_t width,
                        float* out) {
  DotRowsMultiImpl<true>(rows, n, stride, dims, row_scales, transposed, width, out);
}

namespace {

#if defined(__AVX512F__)
// r[k] gets column k of the 16 x 16 block r (lane j = row j).
inline __attribute__((always_inline)) void Transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4) {
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 2]);
    const __m512d c = _mm512_castps_pd(t[i + 1]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
// r[k] gets column k of the 8 x 8 block r (lane j = row j).
inline __attribute__((always_inline)) void Transpose8(__m256 r[8]) {
  __m256 t[8];
#pragma GCC unroll 16
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
    t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) r[i] = t[i];
}
#endif

// One row the way a DotRowsMulti lane computes it (its elements times
// *scale when kScaled, as DotRowsMultiScaled's tile scales them).
template <bool kScaled>
inline float DotLane(const float* row, size_t dims, const float* query, const float* scale) {
  float acc = 0.0f;
  for (size_t d = 0; d < dims; ++d) {
    float element = row[d];
    if constexpr (kScaled) element *= *scale;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    acc = std::fma(element, query[d], acc);
#else
    acc += element * query[d];  // as the portable Fma
#endif
  }
  return acc;
}

// Rows: row(i) is the i-th row (aligned), i in [0, n).
template <bool kScaled, typename RowAt>
void DotRowsLanesImpl(RowAt row, size_t n, size_t stride, size_t dims,
                      const float* row_scales, const float* query, float* out) {
  size_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) {
    if (i + 48 <= n) {
      for (size_t j = i + 32; j < i + 48; ++j) {
        const char* ahead = reinterpret_cast<const char*>(row(j));
        for (size_t b = 0; b < stride * sizeof(float); b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
    }
    __m512 acc = _mm512_setzero_ps();
    __m512 scales = _mm512_setzero_ps();
    if constexpr (kScaled) scales = _mm512_loadu_ps(row_scales + i);  // lane j: row i + j
    for (size_t d0 = 0; d0 < dims; d0 += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) r[j] = _mm512_load_ps(row(i + j) + d0);
      Transpose16(r);
      if constexpr (kScaled) {
#pragma GCC unroll 16
        for (int k = 0; k < 16; ++k) r[k] = _mm512_mul_ps(r[k], scales);
      }
      const size_t m = dims - d0;  // dims beyond are padding: not summed
#pragma GCC unroll 16
      for (int k = 0; k < 16; ++k) {
        if (static_cast<size_t>(k) < m) {
          acc = _mm512_fmadd_ps(r[k], _mm512_set1_ps(query[d0 + k]), acc);
        }
      }
    }
    _mm512_storeu_ps(out + i, acc);
  }
#elif defined(__AVX2__) && defined(__FMA__)
  for (; i + 8 <= n; i += 8) {
    if (i + 24 <= n) {
      for (size_t j = i + 16; j < i + 24; ++j) {
        const char* ahead = reinterpret_cast<const char*>(row(j));
        for (size_t b = 0; b < stride * sizeof(float); b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
    }
    __m256 acc = _mm256_setzero_ps();
    __m256 scales = _mm256_setzero_ps();
    if constexpr (kScaled) scales = _mm256_loadu_ps(row_scales + i);  // lane j: row i + j
    for (size_t d0 = 0; d0 < dims; d0 += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) r[j] = _mm256_load_ps(row(i + j) + d0);
      Transpose8(r);
      if constexpr (kScaled) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) r[k] = _mm256_mul_ps(r[k], scales);
      }
      const size_t m = dims - d0;  // dims beyond are padding: not summed
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        if (static_cast<size_t>(k) < m) {
          acc = _mm256_fmadd_ps(r[k], _mm256_broadcast_ss(query + d0 + k), acc);
        }
      }
    }
    _mm256_storeu_ps(out + i, acc);
  }
#endif
  for (; i < n; ++i) {
    out[i] = DotLane<kScaled>(row(i), dims, query, row_scales + i);
  }
}

}  // namespace

void DotRowsLanes(const float* rows, size_t n, size_t stride, size_t dims, const float* query,
                  float* out) {
  DotRowsLanesImpl<false>([rows, stride](size_t i) { return rows + i * stride; }, n, stride,
                          dims, nullptr, query, out);
}

void DotRowsLanesGather(const float* base, size_t stride, const uint32_t* indices, size_t n,
                        size_t dims, const float* query, float* out) {
  DotRowsLanesImpl<false>(
      [base, stride, indices](size_t i) { return base + size_t{indices[i]} * stride; }, n,
      stride, dims, nullptr, query, out);
}

void DotRowsLanesScaled(const float* rows, size_t n, size_t stride, size_t dims,
                        const float* row_scales, const float* query, float* out) {
  DotRowsLanesImpl<true>([rows, stride](size_t i) { return rows + i * stride; }, n, stride,
                         dims, row_scales, query, out);
}

uint64_t AtOrAboveMask(const float* a, size_t n, float threshold) {
  uint64_t mask = 0;
  size_t j = 0;
#if defined(__AVX512F__)
  const __m512 t = _mm512_set1_ps(threshold);
  for (; j + 16 <= n; j += 16) {
    mask |= static_cast<uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(a + j), t, _CMP_GE_OQ)) << j;
  }
#elif defined(__AVX2__)
  const __m256 t = _mm256_set1_ps(threshold);
  for (; j + 8 <= n; j += 8) {
    const uint64_t bits = static_cast<uint32_t>(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(a + j), t, _CMP_GE_OQ)));
    mask |= bits << j;
  }
#endif
  for (; j < n; ++j) mask |= static_cast<uint64_t>(a[j] >= threshold) << j;
  return mask;
}

bool AtLeastMasks(const float* a, const float* b, size_t n, uint64_t* masks) {
  uint64_t any = 0;
  for (size_t w = 0; w * 64 < n; ++w) {
    uint64_t mask = 0;
    const size_t end = std::min(n, w * 64 + 64);
#if defined(__AVX512F__)
    for (size_t j = w * 64; j < end; j += 16) {
      mask |= static_cast<uint64_t>(
                  _mm512_cmp_ps_mask(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), _CMP_GE_OQ))
              << (j - w * 64);
    }
#elif defined(__AVX2__)
    for (size_t j = w * 64; j < end; j += 8) {
      const uint64_t bits = static_cast<uint32_t>(_mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), _CMP_GE_OQ)));
      mask |= bits << (j - w * 64);
    }
#else
    for (size_t j = w * 64; j < end; ++j) {
      mask |= static_cast<uint64_t>(a[j] >= b[j]) << (j - w * 64);
    }
#endif
    masks[w] = mask;
    any |= mask;
  }
  return any != 0;
}

const char* DotKernelIsa() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2_fma";
#else
  return "portable";
#endif
}

}  // namespace affinity::server
