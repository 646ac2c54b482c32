#include "server/scoring/int8_amx.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "server/scoring/int8_kernels.h"

namespace affinity::server {
namespace {

// Linux's request for the AMX tile data state (arch/x86/include/uapi/asm/prctl.h).
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;

// Queries per A tile (its rows) and bytes per tile row.
constexpr size_t kTileRows = 16;
constexpr size_t kTileRowBytes = 64;
// Queries of one sweep over the blocks: two A tiles.
constexpr size_t kSweepQueries = 2 * kTileRows;
// Fewer queries take the VNNI path: with 1 or 2 queries the two paths
// were level over 1M rows (both bound by memory), with 4 AMX was faster
// (scorer_bench BM_Int8DotBlocks, the AMX path forced for 1 and 2).
constexpr size_t kMinQueries = 4;

// Tile registers: C(query tile t, block j) = tile 2t + j; A(t) = 4 + t; B(j) = 6 + j.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

bool CpuHasAmxInt8() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_tile = (edx >> 24) & 1;
  const bool amx_int8 = (edx >> 25) & 1;
  return amx_tile && amx_int8;
}

// Configures the calling thread's tiles for a sweep of m0 + m1 queries
// (see the register map above) over rows of `groups` 4-dim groups.
__attribute__((target("amx-tile"))) void LoadTileConfig(size_t groups, size_t m0, size_t m1) {
  TileConfig config;
  const size_t row_bytes = groups * 4;
  for (int t = 0; t < 2; ++t) {
    const size_t m = t == 0 ? m0 : m1;
    if (m == 0) continue;
    config.rows[2 * t] = config.rows[2 * t + 1] = static_cast<uint8_t>(m);
    config.colsb[2 * t] = config.colsb[2 * t + 1] = kInt8BlockRows * sizeof(int32_t);
    config.rows[4 + t] = static_cast<uint8_t>(m);
    config.colsb[4 + t] = static_cast<uint16_t>(row_bytes);
  }
  for (int j = 0; j < 2; ++j) {
    config.rows[6 + j] = static_cast<uint8_t>(groups);
    config.colsb[6 + j] = kInt8BlockGroupBytes;
  }
  _tile_loadconfig(&config);
}

// The sums of queries [q0, q0 + m0 + m1) over every block: m0 <= 16 queries
// in A tile 0 and m1 <= 16 (maybe 0) in A tile 1. Each C tile starts as
// -bias (the stored rows are r + 128; see int8_kernels.h), so the stored
// sums are final.
__attribute__((target("amx-tile,amx-int8,avx512f"))) void Sweep(
    const uint8_t* blocks, size_t nblocks, size_t groups, const int8_t* const* queries,
    size_t m0, size_t m1, int32_t* out, size_t out_stride) {
  alignas(64) int8_t a[kSweepQueries][kTileRowBytes] = {};
  alignas(64) int32_t start[kSweepQueries][kInt8BlockRows];
  const size_t row_bytes = groups * 4;
  for (size_t q = 0; q < m0 + m1; ++q) {
    std::memcpy(a[q], queries[q], row_bytes);
    std::fill_n(start[q], kInt8BlockRows, -Int8QueryBias(queries[q], groups));
  }
  LoadTileConfig(groups, m0, m1);
  _tile_loadd(4, a[0], kTileRowBytes);
  if (m1 > 0) _tile_loadd(5, a[kTileRows], kTileRowBytes);
  const size_t block_bytes = groups * kInt8BlockGroupBytes;
  const size_t stride_bytes = out_stride * sizeof(int32_t);
  int32_t* out0 = out;
  int32_t* out1 = out + kTileRows * out_stride;
  constexpr size_t kStartStride = kInt8BlockRows * sizeof(int32_t);
  size_t b = 0;
  for (; b + 2 <= nblocks; b += 2) {
    const uint8_t* block = blocks + b * block_bytes;
    _tile_loadd(6, block, kInt8BlockGroupBytes);
    _tile_loadd(7, block + block_bytes, kInt8BlockGroupBytes);
    _tile_loadd(0, start[0], kStartStride);
    _tile_loadd(1, start[0], kStartStride);
    _tile_dpbsud(0, 4, 6);
    _tile_dpbsud(1, 4, 7);
    _tile_stored(0, out0 + b * kInt8BlockRows, stride_bytes);
    _tile_stored(1, out0 + (b + 1) * kInt8BlockRows, stride_bytes);
    if (m1 > 0) {
      _tile_loadd(2, start[kTileRows], kStartStride);
      _tile_loadd(3, start[kTileRows], kStartStride);
      _tile_dpbsud(2, 5, 6);
      _tile_dpbsud(3, 5, 7);
      _tile_stored(2, out1 + b * kInt8BlockRows, stride_bytes);
      _tile_stored(3, out1 + (b + 1) * kInt8BlockRows, stride_bytes);
    }
  }
  if (b < nblocks) {
    _tile_loadd(6, blocks + b * block_bytes, kInt8BlockGroupBytes);
    _tile_loadd(0, start[0], kStartStride);
    _tile_dpbsud(0, 4, 6);
    _tile_stored(0, out0 + b * kInt8BlockRows, stride_bytes);
    if (m1 > 0) {
      _tile_loadd(2, start[kTileRows], kStartStride);
      _tile_dpbsud(2, 5, 6);
      _tile_stored(2, out1 + b * kInt8BlockRows, stride_bytes);
    }
  }
  _tile_release();
}

// The scan step (Int8ScanBlocks) of queries [0, m0 + m1) of the call, m0 in
// A tile 0 and m1 (maybe 0) in A tile 1. Each step multiplies both A tiles
// by two blocks into zeroed C tiles and stores them in an L1 buffer; the
// previous step's buffer is compared meanwhile (the sums less the bias,
// scaled exactly as AtOrAbove's vector paths do), so a C tile's sums reach
// `dots` only for a block row of a query with a bit set.
__attribute__((target("amx-tile,amx-int8,avx512f"))) void ScanSweep(
    const uint8_t* blocks, size_t nblocks, size_t groups, const int8_t* const* queries,
    size_t m0, size_t m1, const float* row_scales, size_t n, const float* query_scales,
    const float* thresholds, int32_t* dots, size_t dots_stride, uint64_t* masks,
    size_t mask_words) {
  alignas(64) int8_t a[kSweepQueries][kTileRowBytes] = {};
  int32_t bias[kSweepQueries];
  const size_t m = m0 + m1;
  const size_t row_bytes = groups * 4;
  for (size_t q = 0; q < m; ++q) {
    std::memcpy(a[q], queries[q], row_bytes);
    bias[q] = Int8QueryBias(queries[q], groups);
    std::fill_n(masks + q * mask_words, mask_words, 0);
  }
  LoadTileConfig(groups, m0, m1);
  _tile_loadd(4, a[0], kTileRowBytes);
  if (m1 > 0) _tile_loadd(5, a[kTileRows], kTileRowBytes);
  // sums[buffer][tile 2t + j][query row][block row]: query tile t, block j of the step.
  alignas(64) int32_t sums[2][4][kTileRows][kInt8BlockRows];
  constexpr size_t kSumStride = kInt8BlockRows * sizeof(int32_t);
  const size_t block_bytes = groups * kInt8BlockGroupBytes;
  // Compares the sums of blocks [b, b + count) held in sums[buffer].
  auto compare = [&](int buffer, size_t b, size_t count) {
    for (size_t j = 0; j < count; ++j) {
      const size_t block = b + j;
      const size_t first = block * kInt8BlockRows;
      const __mmask16 rows = first + kInt8BlockRows <= n ? __mmask16(0xFFFF)
                             : first >= n                  ? __mmask16(0)
                                                           : __mmask16((1u << (n - first)) - 1);
      const __m512 row_scale = _mm512_loadu_ps(row_scales + first);
      const size_t word = block / 4;
      const int shift = static_cast<int>(block % 4) * 16;
      for (size_t q = 0; q < m; ++q) {
        const size_t t = q / kTileRows;
        const __m512i sum = _mm512_sub_epi32(
            _mm512_load_si512(sums[buffer][2 * t + j][q % kTileRows]), _mm512_set1_epi32(bias[q]));
        const __m512 score = _mm512_mul_ps(
            _mm512_cvtepi32_ps(sum), _mm512_mul_ps(row_scale, _mm512_set1_ps(query_scales[q])));
        const __mmask16 hit = _mm512_mask_cmp_ps_mask(rows, score, _mm512_set1_ps(thresholds[q]),
                                                      _CMP_GE_OQ);
        if (hit != 0) {
          _mm512_storeu_si512(dots + q * dots_stride + first, sum);
          masks[q * mask_words + word] |= static_cast<uint64_t>(hit) << shift;
        }
      }
    }
  };
  int buffer = 0;
  size_t pending = 0, pending_count = 0;  // the blocks whose sums wait in sums[buffer ^ 1]
  for (size_t b = 0; b < nblocks; b += 2) {
    const size_t count = std::min<size_t>(2, nblocks - b);
    const uint8_t* block = blocks + b * block_bytes;
    _tile_loadd(6, block, kInt8BlockGroupBytes);
    if (count == 2) _tile_loadd(7, block + block_bytes, kInt8BlockGroupBytes);
    _tile_zero(0);
    _tile_dpbsud(0, 4, 6);
    _tile_stored(0, sums[buffer][0], kSumStride);
    if (count == 2) {
      _tile_zero(1);
      _tile_dpbsud(1, 4, 7);
      _tile_stored(1, sums[buffer][1], kSumStride);
    }
    if (m1 > 0) {
      _tile_zero(2);
      _tile_dpbsud(2, 5, 6);
      _tile_stored(2, sums[buffer][2], kSumStride);
      if (count == 2) {
        _tile_zero(3);
        _tile_dpbsud(3, 5, 7);
        _tile_stored(3, sums[buffer][3], kSumStride);
      }
    }
    if (pending_count > 0) compare(buffer ^ 1, pending, pending_count);
    pending = b;
    pending_count = count;
    buffer ^= 1;
  }
  _tile_release();
  if (pending_count > 0) compare(buffer ^ 1, pending, pending_count);
}
}  // namespace

bool AmxInt8Available() {
  static const bool available =
      CpuHasAmxInt8() && syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return available;
}

bool AmxCovers(size_t groups, size_t nq) {
  return groups >= 1 && groups <= kTileRowBytes / 4 && nq >= kMinQueries;
}

void DotBlocksAmx(const uint8_t* blocks, size_t nblocks, size_t groups,
                  const int8_t* const* queries, size_t nq, int32_t* out) {
  const size_t out_stride = nblocks * kInt8BlockRows;
  for (size_t q = 0; q < nq; q += kSweepQueries) {
    const size_t m = std::min(kSweepQueries, nq - q);
    const size_t m0 = std::min(kTileRows, m);
    Sweep(blocks, nblocks, groups, queries + q, m0, m - m0, out + q * out_stride, out_stride);
  }
}

void ScanBlocksAmx(const uint8_t* blocks, size_t nblocks, size_t groups,
                   const int8_t* const* queries, size_t nq, const float* row_scales, size_t n,
                   const float* query_scales, const float* thresholds, int32_t* dots,
                   uint64_t* masks) {
  const size_t dots_stride = nblocks * kInt8BlockRows;
  const size_t mask_words = Int8MaskWords(nblocks);
  for (size_t q = 0; q < nq; q += kSweepQueries) {
    const size_t m = std::min(kSweepQueries, nq - q);
    const size_t m0 = std::min(kTileRows, m);
    ScanSweep(blocks, nblocks, groups, queries + q, m0, m - m0, row_scales, n, query_scales + q,
              thresholds + q, dots + q * dots_stride, dots_stride, masks + q * mask_words,
              mask_words);
  }
}

}  // namespace affinity::server
