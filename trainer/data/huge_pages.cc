#include "trainer/data/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace affinity {

void AdviseHugePages(void* data, size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  if (data == nullptr || bytes < kHugePage) return;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t last = (begin + bytes) & ~(kHugePage - 1);
  if (last > first) {
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#else
  (void)data;
  (void)bytes;
#endif
}

void* AllocateHugeBytes(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  void* p = nullptr;
  if (bytes >= kHugePage) {
    // aligned_alloc wants a size that is a multiple of the alignment.
    p = std::aligned_alloc(kHugePage,
                           (bytes + kHugePage - 1) & ~(kHugePage - 1));
  } else {
    p = std::malloc(bytes == 0 ? 1 : bytes);
  }
  if (p == nullptr) throw std::bad_alloc();
  AdviseHugePages(p, bytes);
  return p;
}

}  // namespace affinity
