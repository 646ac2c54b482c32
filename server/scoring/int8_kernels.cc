#include "server/scoring/int8_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "server/scoring/int8_amx.h"

namespace affinity::server {
namespace {

int32_t QueryBytesSumPortable(const int8_t* query, size_t n) {
  int32_t sum = 0;
  for (size_t d = 0; d < n; ++d) sum += query[d];
  return sum;
}

// 64 bytes at a time: byte ^ 0x80 is the unsigned byte + 128, which
// vpsadbw sums against zero (masked-off bytes load as 0 and count 128).
__attribute__((target("avx512f,avx512bw"))) int32_t QueryBytesSumAvx512(const int8_t* query,
                                                                         size_t n) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i sums = _mm512_setzero_si512();
  size_t loaded = 0;
  for (size_t i = 0; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i bytes = _mm512_maskz_loadu_epi8(m, query + i);
    sums = _mm512_add_epi64(sums, _mm512_sad_epu8(_mm512_xor_si512(bytes, flip),
                                                  _mm512_setzero_si512()));
    loaded += 64;
  }
  return static_cast<int32_t>(_mm512_reduce_add_epi64(sums) - 128 * static_cast<int64_t>(loaded));
}

int32_t LoadQuad(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void DotBlocksPortable(const uint8_t* blocks, size_t nblocks, size_t groups,
                       const int8_t* const* queries, size_t nq, int32_t* out) {
  const size_t block_bytes = groups * kInt8BlockGroupBytes;
  for (size_t q = 0; q < nq; ++q) {
    const int8_t* query = queries[q];
    int32_t* dst = out + q * nblocks * kInt8BlockRows;
    for (size_t b = 0; b < nblocks; ++b) {
      const uint8_t* block = blocks + b * block_bytes;
      for (size_t j = 0; j < kInt8BlockRows; ++j) {
        int32_t sum = 0;
        for (size_t g = 0; g < groups; ++g) {
          const uint8_t* row = block + g * kInt8BlockGroupBytes + j * 4;
          for (size_t t = 0; t < 4; ++t) {
            sum += (static_cast<int32_t>(row[t]) - 128) * query[g * 4 + t];
          }
        }
        dst[b * kInt8BlockRows + j] = sum;
      }
    }
  }
}

// AVX2 has no exact unsigned x signed byte product with 32-bit sums
// (vpmaddubsw saturates at 16 bits), so bytes are widened to int16 and
// multiplied with vpmaddwd, whose pair sums are exact in 32 bits.
__attribute__((target("avx2"))) void DotBlocksAvx2(const uint8_t* blocks, size_t nblocks,
                                                   size_t groups,
                                                   const int8_t* const* queries, size_t nq,
                                                   int32_t* out) {
  const size_t block_bytes = groups * kInt8BlockGroupBytes;
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  std::vector<int64_t> patterns(groups);
  for (size_t q = 0; q < nq; ++q) {
    const int8_t* query = queries[q];
    // The query's 4 bytes of group g as four int16, repeated across a vector.
    for (size_t g = 0; g < groups; ++g) {
      uint64_t p = 0;
      for (int t = 0; t < 4; ++t) {
        p |= uint64_t{static_cast<uint16_t>(static_cast<int16_t>(query[g * 4 + t]))} << (16 * t);
      }
      patterns[g] = static_cast<int64_t>(p);
    }
    const __m256i bias = _mm256_set1_epi32(Int8QueryBias(query, groups));
    int32_t* dst = out + q * nblocks * kInt8BlockRows;
    for (size_t b = 0; b < nblocks; ++b) {
      const uint8_t* block = blocks + b * block_bytes;
      // acc[i]: rows 4i..4i+3, two partial sums each.
      __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
      __m256i acc2 = _mm256_setzero_si256(), acc3 = _mm256_setzero_si256();
      for (size_t g = 0; g < groups; ++g) {
        const uint8_t* p = block + g * kInt8BlockGroupBytes;
        const __m256i qv = _mm256_set1_epi64x(patterns[g]);
        const __m256i r0 = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
        const __m256i r1 = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 16)));
        const __m256i r2 = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 32)));
        const __m256i r3 = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 48)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(r0, qv));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(r1, qv));
        acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(r2, qv));
        acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(r3, qv));
      }
      // hadd gives rows (0 1 4 5 | 2 3 6 7); the permutation puts them in order.
      const __m256i lo = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc0, acc1), order);
      const __m256i hi = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc2, acc3), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b * kInt8BlockRows),
                          _mm256_sub_epi32(lo, bias));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + b * kInt8BlockRows + 8),
                          _mm256_sub_epi32(hi, bias));
    }
  }
}

// B consecutive blocks against Q queries: each 32-bit lane is one row;
// vpdpbusd adds the row's 4 unsigned bytes of a group times the query's 4
// signed bytes. B * Q independent accumulators hide vpdpbusd's latency.
template <int B, int Q, int G>
__attribute__((target("avx512f,avx512vnni"), always_inline)) inline void VnniTile(
    const uint8_t* block, size_t block_bytes, size_t runtime_groups, const int8_t* const* queries,
    const int32_t* bias, int32_t* out, size_t out_stride) {
  const size_t groups = G > 0 ? static_cast<size_t>(G) : runtime_groups;
  __m512i acc[B][Q];
#pragma GCC unroll 8
  for (int b = 0; b < B; ++b) {
#pragma GCC unroll 8
    for (int j = 0; j < Q; ++j) acc[b][j] = _mm512_setzero_si512();
  }
#pragma GCC unroll 16
  for (size_t g = 0; g < groups; ++g) {
    __m512i rows[B];
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) {
      rows[b] = _mm512_load_si512(block + b * block_bytes + g * kInt8BlockGroupBytes);
    }
#pragma GCC unroll 8
    for (int j = 0; j < Q; ++j) {
      const __m512i q = _mm512_set1_epi32(LoadQuad(queries[j] + g * 4));
#pragma GCC unroll 8
      for (int b = 0; b < B; ++b) acc[b][j] = _mm512_dpbusd_epi32(acc[b][j], rows[b], q);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < Q; ++j) {
    const __m512i correction = _mm512_set1_epi32(bias[j]);
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) {
      _mm512_storeu_si512(out + j * out_stride + b * kInt8BlockRows,
                          _mm512_sub_epi32(acc[b][j], correction));
    }
  }
}

// Blocks [b, nblocks) against Q queries, B blocks at a time, then one.
template <int B, int Q, int G>
__attribute__((target("avx512f,avx512vnni"), always_inline)) inline void VnniQueries(
    const uint8_t* blocks, size_t nblocks, size_t groups, const int8_t* const* queries,
    const int32_t* bias, int32_t* out) {
  const size_t block_bytes = groups * kInt8BlockGroupBytes;
  const size_t out_stride = nblocks * kInt8BlockRows;
  size_t b = 0;
  for (; b + B <= nblocks; b += B) {
    VnniTile<B, Q, G>(blocks + b * block_bytes, block_bytes, groups, queries, bias,
                   out + b * kInt8BlockRows, out_stride);
  }
  for (; b < nblocks; ++b) {
    VnniTile<1, Q, G>(blocks + b * block_bytes, block_bytes, groups, queries, bias,
                   out + b * kInt8BlockRows, out_stride);
  }
}

// G > 0: every call has groups == G, a constant the compiler unrolls.
template <int G>
__attribute__((target("avx512f,avx512vnni"), always_inline)) inline void DotBlocksVnniGroups(
    const uint8_t* blocks, size_t nblocks, size_t groups, const int8_t* const* queries,
    size_t nq, int32_t* out) {
  int32_t bias[kInt8MaxQueries];
  for (size_t q = 0; q < nq; ++q) bias[q] = Int8QueryBias(queries[q], groups);
  const size_t out_stride = nblocks * kInt8BlockRows;
  size_t q = 0;
  for (; q + 8 <= nq; q += 8) {
    VnniQueries<2, 8, G>(blocks, nblocks, groups, queries + q, bias + q, out + q * out_stride);
  }
  for (; q + 4 <= nq; q += 4) {
    VnniQueries<4, 4, G>(blocks, nblocks, groups, queries + q, bias + q, out + q * out_stride);
  }
  for (; q < nq; ++q) {
    VnniQueries<8, 1, G>(blocks, nblocks, groups, queries + q, bias + q, out + q * out_stride);
  }
}

__attribute__((target("avx512f,avx512vnni"))) void DotBlocksVnni(
    const uint8_t* blocks, size_t nblocks, size_t groups, const int8_t* const* queries,
    size_t nq, int32_t* out) {
  // 64 dims (the usual factor count): the group loop unrolled whole.
  if (groups == 16) {
    DotBlocksVnniGroups<16>(blocks, nblocks, groups, queries, nq, out);
  } else {
    DotBlocksVnniGroups<0>(blocks, nblocks, groups, queries, nq, out);
  }
}

// Sets bit i % 64 of masks[i / 64] for i in [0, n) when Int8Score(...) >=
// threshold (never for NaN), writing masks[0 .. (n + 63) / 64) whole.
bool AtOrAbovePortable(const int32_t* dots, const float* row_scales, float query_scale,
                       float threshold, size_t n, uint64_t* masks) {
  uint64_t any = 0;
  for (size_t w = 0; w * 64 < n; ++w) {
    uint64_t mask = 0;
    const size_t end = std::min(n, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i) {
      mask |= static_cast<uint64_t>(Int8Score(dots[i], row_scales[i], query_scale) >= threshold)
              << (i - w * 64);
    }
    masks[w] = mask;
    any |= mask;
  }
  return any != 0;
}

__attribute__((target("avx2"))) bool AtOrAboveAvx2(const int32_t* dots, const float* row_scales,
                                                   float query_scale, float threshold, size_t n,
                                                   uint64_t* masks) {
  const __m256 qs = _mm256_set1_ps(query_scale);
  const __m256 t = _mm256_set1_ps(threshold);
  const size_t full = n / 64 * 64;
  uint64_t any = 0;
  for (size_t w = 0; w * 64 < full; ++w) {
    uint64_t mask = 0;
    for (size_t part = 0; part < 8; ++part) {
      const size_t i = w * 64 + part * 8;
      const __m256 d = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dots + i)));
      const __m256 v = _mm256_mul_ps(d, _mm256_mul_ps(_mm256_loadu_ps(row_scales + i), qs));
      const uint64_t bits = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, t, _CMP_GE_OQ)));
      mask |= bits << (part * 8);
    }
    masks[w] = mask;
    any |= mask;
  }
  const bool tail = full < n && AtOrAbovePortable(dots + full, row_scales + full, query_scale,
                                                  threshold, n - full, masks + full / 64);
  return tail || any != 0;
}

__attribute__((target("avx512f"))) bool AtOrAboveAvx512(const int32_t* dots,
                                                        const float* row_scales,
                                                        float query_scale, float threshold,
                                                        size_t n, uint64_t* masks) {
  const __m512 qs = _mm512_set1_ps(query_scale);
  const __m512 t = _mm512_set1_ps(threshold);
  uint64_t any = 0;
  for (size_t w = 0; w * 64 < n; ++w) {
    uint64_t mask = 0;
    for (size_t part = 0; part < 4; ++part) {
      const size_t i = w * 64 + part * 16;
      if (i >= n) break;
      const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
      const __m512 d = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, dots + i));
      const __m512 v =
          _mm512_mul_ps(d, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row_scales + i), qs));
      mask |= static_cast<uint64_t>(_mm512_mask_cmp_ps_mask(m, v, t, _CMP_GE_OQ)) << (part * 16);
    }
    masks[w] = mask;
    any |= mask;
  }
  return any != 0;
}

}  // namespace

int32_t Int8QueryBias(const int8_t* query, size_t groups) {
  static const bool avx512 = __builtin_cpu_supports("avx512bw");
  const size_t n = groups * 4;
  return 128 * (avx512 ? QueryBytesSumAvx512(query, n) : QueryBytesSumPortable(query, n));
}

bool Int8ScoresAtOrAbove(Int8Isa isa, const int32_t* dots, const float* row_scales,
                         float query_scale, float threshold, size_t n, uint64_t* masks) {
  switch (isa) {
    case Int8Isa::kAmx:
    case Int8Isa::kAvx512Vnni:
      return AtOrAboveAvx512(dots, row_scales, query_scale, threshold, n, masks);
    case Int8Isa::kAvx2:
      return AtOrAboveAvx2(dots, row_scales, query_scale, threshold, n, masks);
    case Int8Isa::kPortable:
      break;
  }
  return AtOrAbovePortable(dots, row_scales, query_scale, threshold, n, masks);
}

bool Int8IsaSupported(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::kPortable:
      return true;
    case Int8Isa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Int8Isa::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
    case Int8Isa::kAmx:
      return Int8IsaSupported(Int8Isa::kAvx512Vnni) && AmxInt8Available();
  }
  return false;
}

Int8Isa BestInt8Isa() {
  static const Int8Isa best = [] {
    if (Int8IsaSupported(Int8Isa::kAmx)) return Int8Isa::kAmx;
    if (Int8IsaSupported(Int8Isa::kAvx512Vnni)) return Int8Isa::kAvx512Vnni;
    if (Int8IsaSupported(Int8Isa::kAvx2)) return Int8Isa::kAvx2;
    return Int8Isa::kPortable;
  }();
  return best;
}

const char* Int8IsaName(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::kPortable:
      return "portable";
    case Int8Isa::kAvx2:
      return "avx2";
    case Int8Isa::kAvx512Vnni:
      return "avx512_vnni";
    case Int8Isa::kAmx:
      return "amx_int8";
  }
  return "unknown";
}

void Int8DotBlocks(Int8Isa isa, const uint8_t* blocks, size_t nblocks, size_t groups,
                   const int8_t* const* queries, size_t nq, int32_t* out) {
  switch (isa) {
    case Int8Isa::kAmx:
      if (AmxCovers(groups, nq)) {
        DotBlocksAmx(blocks, nblocks, groups, queries, nq, out);
      } else {
        DotBlocksVnni(blocks, nblocks, groups, queries, nq, out);
      }
      return;
    case Int8Isa::kAvx512Vnni:
      DotBlocksVnni(blocks, nblocks, groups, queries, nq, out);
      return;
    case Int8Isa::kAvx2:
      DotBlocksAvx2(blocks, nblocks, groups, queries, nq, out);
      return;
    case Int8Isa::kPortable:
      DotBlocksPortable(blocks, nblocks, groups, queries, nq, out);
      return;
  }
}

void Int8ScanBlocks(Int8Isa isa, const uint8_t* blocks, size_t nblocks, size_t groups,
                    const int8_t* const* queries, size_t nq, const float* row_scales, size_t n,
                    const float* query_scales, const float* thresholds, int32_t* dots,
                    uint64_t* masks) {
  if (isa == Int8Isa::kAmx && AmxCovers(groups, nq)) {
    ScanBlocksAmx(blocks, nblocks, groups, queries, nq, row_scales, n, query_scales, thresholds,
                  dots, masks);
    return;
  }
  Int8DotBlocks(isa, blocks, nblocks, groups, queries, nq, dots);
  const size_t stride = nblocks * kInt8BlockRows;
  const size_t words = Int8MaskWords(nblocks);
  for (size_t q = 0; q < nq; ++q) {
    uint64_t* own = masks + q * words;
    std::fill_n(own, words, 0);
    Int8ScoresAtOrAbove(isa, dots + q * stride, row_scales, query_scales[q], thresholds[q], n,
                        own);
  }
}

}  // namespace affinity::server
