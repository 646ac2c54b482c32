#include "server/scoring/scan_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <limits>

namespace affinity::server {

void* AllocateScanMemory(size_t bytes) {
  // aligned_alloc wants a multiple of the alignment.
  if (bytes < kHugePageBytes) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (bytes > std::numeric_limits<size_t>::max() - kHugePageBytes) return nullptr;
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  // Advice only: a kernel without transparent huge pages refuses it and
  // the memory stays in ordinary pages.
  if (p != nullptr) madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

}  // namespace affinity::server
