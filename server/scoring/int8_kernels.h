// Integer inner products of int8 item rows with int8 queries: the inner loop
// of the int8 candidate scan (int8_scorer.h). Every path computes the exact
// integer sum, so all of them return the same int32 values bit for bit; the
// fastest one the CPU supports is chosen at run time (BestInt8Isa), and each
// can be called directly (tests compare them). Stateless and thread-safe.
//
// Row layout ("blocks"): rows are grouped by kInt8BlockRows; a block holds,
// for each group of 4 dims g, 64 bytes: rows 0..15 of the block, each as 4
// bytes (dims 4g..4g+3). A value r in [-127, 127] is stored as the unsigned
// byte r + 128 (padding rows and dims hold 128, i.e. 0). A block is
// groups * 64 bytes, 64-byte aligned.
//
// Queries: `groups * 4` signed bytes each, zero beyond dims, any alignment.
#ifndef AFFINITY_SERVER_SCORING_INT8_KERNELS_H_
#define AFFINITY_SERVER_SCORING_INT8_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace affinity::server {

constexpr size_t kInt8BlockRows = 16;
constexpr size_t kInt8BlockGroupBytes = kInt8BlockRows * 4;
// Queries scored together by one call at most (larger batches: call again).
constexpr size_t kInt8MaxQueries = 64;
// Blocks per call in a scan (the scorers' chunks): 960 rows, whose int32
// sums for a full set of queries (64 x 960 x 4 bytes) stay in L2. Not 64
// blocks: one query's sums would then be 4 KiB apart, the rows of an AMX
// tile store would share one L1 set, and a pass of 32 queries took about 1.5x
// as long (scorer_bench BM_Int8DotBlocks).
constexpr size_t kInt8ScanChunkBlocks = 60;

enum class Int8Isa {
  kPortable,    // plain C++
  kAvx2,        // AVX2: bytes widened to int16, vpmaddwd
  kAvx512Vnni,  // AVX-512 VNNI: vpdpbusd (unsigned rows x signed query)
  kAmx,         // AMX-INT8: tdpbsud, 16 queries x 16 rows per instruction
                // (int8_amx.h); calls with few queries or over 64 dims take
                // the VNNI path
};

// True when this CPU can run `isa` (kPortable always).
bool Int8IsaSupported(Int8Isa isa);
// The fastest supported path. Asking about kAmx (this or Int8IsaSupported)
// asks Linux, once per process, for the use of the AMX tile state.
Int8Isa BestInt8Isa();
const char* Int8IsaName(Int8Isa isa);

// For blocks [0, nblocks) starting at `blocks` (each `groups` * 64 bytes)
// and nq <= kInt8MaxQueries queries: out[q * nblocks * 16 + b * 16 + j] =
// sum over d of row(b * 16 + j)[d] * queries[q][d], the signed row values
// (stored byte - 128) times the signed query bytes. `isa` must be supported.
void Int8DotBlocks(Int8Isa isa, const uint8_t* blocks, size_t nblocks, size_t groups,
                   const int8_t* const* queries, size_t nq, int32_t* out);

// 128 * (sum of the query's groups * 4 bytes): the stored rows are r + 128,
// so sum((r + 128) * q) - Int8QueryBias(q) = sum(r * q). Every path
// subtracts it; vectorised where the CPU allows, the same value everywhere.
int32_t Int8QueryBias(const int8_t* query, size_t groups);

// The int8 approximation of a score: float(dot) * (row_scale * query_scale),
// rounded the same way on every path (the vector paths compute these very
// operations lane by lane).
inline float Int8Score(int32_t dot, float row_scale, float query_scale) {
  return static_cast<float>(dot) * (row_scale * query_scale);
}

// For i in [0, n): bit i % 64 of masks[i / 64] is set when
// Int8Score(dots[i], row_scales[i], query_scale) >= threshold (never for
// NaN); the (n + 63) / 64 words are written whole. True when any bit is set.
// Every path returns the same masks. The scores themselves are not stored:
// the caller computes Int8Score for the few rows whose bit is set.
bool Int8ScoresAtOrAbove(Int8Isa isa, const int32_t* dots, const float* row_scales,
                         float query_scale, float threshold, size_t n, uint64_t* masks);

// Words of a mask over the rows of `nblocks` blocks: (nblocks * 16 + 63) / 64.
inline size_t Int8MaskWords(size_t nblocks) { return (nblocks * kInt8BlockRows + 63) / 64; }

// One step of a scan: Int8DotBlocks and Int8ScoresAtOrAbove for every query
// of the call, as one call. For rows i in [0, n) (n <= nblocks * 16) and
// queries q < nq: bit i % 64 of masks[q * Int8MaskWords(nblocks) + i / 64]
// is set when Int8Score(sum, row_scales[i], query_scales[q]) >= thresholds[q]
// (the words are written whole; bits of rows >= n are 0), and
// dots[q * nblocks * 16 + i] holds the sum for every row whose bit is set
// (other entries are unspecified). row_scales must hold nblocks * 16 values.
// Every path returns the same masks and sums; the AMX path (when AmxCovers)
// compares each tile's sums while they are in L1 and stores only the rows of
// blocks that have a bit set, the others are Int8DotBlocks, then the masks.
void Int8ScanBlocks(Int8Isa isa, const uint8_t* blocks, size_t nblocks, size_t groups,
                    const int8_t* const* queries, size_t nq, const float* row_scales, size_t n,
                    const float* query_scales, const float* thresholds, int32_t* dots,
                    uint64_t* masks);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INT8_KERNELS_H_
