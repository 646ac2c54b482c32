// AllocateScanMemory: memory for a matrix that a scan reads whole, again and
// again (the float item matrix, its int8 copy). A block of at least
// kHugePageBytes is aligned to that size and advised to the kernel as
// transparent huge pages (madvise MADV_HUGEPAGE), so that a pass over 64 MB
// walks 32 page-table entries instead of 16,384 and a re-rank's scattered
// reads miss the TLB less. Where the kernel keeps huge pages off, or has
// none free, the memory is ordinary pages; nothing else changes.
//
// Returns nullptr when the memory cannot be allocated. The memory is not
// initialised; release it with std::free. Thread-safe.
#ifndef AFFINITY_SERVER_SCORING_SCAN_MEMORY_H_
#define AFFINITY_SERVER_SCORING_SCAN_MEMORY_H_

#include <cstddef>

namespace affinity::server {

// The x86-64 huge page size.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// At least `bytes` bytes (rounded up to whole huge pages when advised),
// aligned to 64 bytes or, from kHugePageBytes on, to kHugePageBytes.
void* AllocateScanMemory(size_t bytes);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_SCAN_MEMORY_H_
