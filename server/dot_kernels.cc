#include "server/dot_kernels.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace affinity::server {
namespace {

#if defined(__AVX512F__)

// Four rows against one query; stride is a multiple of 16.
inline void Dot4(const float* r0, size_t stride, const float* q, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  const float* r1 = r0 + stride;
  const float* r2 = r1 + stride;
  const float* r3 = r2 + stride;
  for (size_t d = 0; d < stride; d += 16) {
    const __m512 qv = _mm512_loadu_ps(q + d);
    a0 = _mm512_fmadd_ps(_mm512_load_ps(r0 + d), qv, a0);
    a1 = _mm512_fmadd_ps(_mm512_load_ps(r1 + d), qv, a1);
    a2 = _mm512_fmadd_ps(_mm512_load_ps(r2 + d), qv, a2);
    a3 = _mm512_fmadd_ps(_mm512_load_ps(r3 + d), qv, a3);
  }
  out[0] = _mm512_reduce_add_ps(a0);
  out[1] = _mm512_reduce_add_ps(a1);
  out[2] = _mm512_reduce_add_ps(a2);
  out[3] = _mm512_reduce_add_ps(a3);
}

inline float Dot1(const float* r, size_t stride, const float* q) {
  __m512 a = _mm512_setzero_ps();
  for (size_t d = 0; d < stride; d += 16) {
    a = _mm512_fmadd_ps(_mm512_load_ps(r + d), _mm512_loadu_ps(q + d), a);
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

inline void Dot4(const float* r0, size_t stride, const float* q, float* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  const float* r1 = r0 + stride;
  const float* r2 = r1 + stride;
  const float* r3 = r2 + stride;
  for (size_t d = 0; d < stride; d += 8) {
    const __m256 qv = _mm256_loadu_ps(q + d);
    a0 = _mm256_fmadd_ps(_mm256_load_ps(r0 + d), qv, a0);
    a1 = _mm256_fmadd_ps(_mm256_load_ps(r1 + d), qv, a1);
    a2 = _mm256_fmadd_ps(_mm256_load_ps(r2 + d), qv, a2);
    a3 = _mm256_fmadd_ps(_mm256_load_ps(r3 + d), qv, a3);
  }
  out[0] = HorizontalSum(a0);
  out[1] = HorizontalSum(a1);
  out[2] = HorizontalSum(a2);
  out[3] = HorizontalSum(a3);
}

inline float Dot1(const float* r, size_t stride, const float* q) {
  __m256 a = _mm256_setzero_ps();
  for (size_t d = 0; d < stride; d += 8) {
    a = _mm256_fmadd_ps(_mm256_load_ps(r + d), _mm256_loadu_ps(q + d), a);
  }
  return HorizontalSum(a);
}

#else

inline float Dot1(const float* r, size_t stride, const float* q) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t d = 0; d < stride; d += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += r[d + j] * q[d + j];
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

inline void Dot4(const float* r0, size_t stride, const float* q, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = Dot1(r0 + j * stride, stride, q);
}

#endif

}  // namespace

void DotRows(const float* rows, size_t n, size_t stride, const float* query,
             float* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) Dot4(rows + i * stride, stride, query, out + i);
  for (; i < n; ++i) out[i] = Dot1(rows + i * stride, stride, query);
}

void DotRowsMulti(const float* rows, size_t n, size_t stride,
                  const float* const* queries, size_t nq, float* out) {
  for (size_t q = 0; q < nq; ++q) DotRows(rows, n, stride, queries[q], out + q * n);
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
