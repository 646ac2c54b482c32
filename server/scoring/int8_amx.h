// The AMX (Advanced Matrix Extensions) path of Int8DotBlocks
// (int8_kernels.h): one TDPBSUD instruction multiplies 16 queries by a whole
// block (16 rows x 64 dims) into 16 x 16 int32 sums, so a batch of queries
// costs a fraction of the VNNI path's instructions per row. The sums are the
// exact integer sums, as on every path. Stateless and thread-safe: each call
// configures the calling thread's tiles and releases them before returning.
// Only for int8_kernels.cc, which chooses this path (AmxCovers) or VNNI.
#ifndef AFFINITY_SERVER_SCORING_INT8_AMX_H_
#define AFFINITY_SERVER_SCORING_INT8_AMX_H_

#include <cstddef>
#include <cstdint>

namespace affinity::server {

// True when the CPU has AMX-TILE and AMX-INT8 and the kernel granted this
// process the use of the tile data (Linux arch_prctl ARCH_REQ_XCOMP_PERM,
// asked once, on the first call).
bool AmxInt8Available();

// True when DotBlocksAmx computes this call: groups <= 16 (one tile row of
// 64 bytes holds a row's dims) and at least 4 queries (with fewer, AMX
// was no faster than VNNI).
bool AmxCovers(size_t groups, size_t nq);

// Int8DotBlocks' contract, for calls with AmxCovers(groups, nq) on a CPU
// with AmxInt8Available().
void DotBlocksAmx(const uint8_t* blocks, size_t nblocks, size_t groups,
                  const int8_t* const* queries, size_t nq, int32_t* out);

// Int8ScanBlocks' contract, for calls with AmxCovers(groups, nq) on a CPU
// with AmxInt8Available().
void ScanBlocksAmx(const uint8_t* blocks, size_t nblocks, size_t groups,
                   const int8_t* const* queries, size_t nq, const float* row_scales, size_t n,
                   const float* query_scales, const float* thresholds, int32_t* dots,
                   uint64_t* masks);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INT8_AMX_H_
