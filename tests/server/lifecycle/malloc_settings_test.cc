// FixMallocThresholds, as affinity-server calls it at start: once a big
// block (a retired version's matrix) has been freed, mid-size blocks (a
// version's catalog records and prepared rules) still get their own mappings
// and go back to the system when freed. glibc's default would serve them from
// its arenas after that first free and keep them there. Smaller blocks stay
// in the arenas, and the free space at an arena's top is kept up to 32 MiB.
// Not under ASan or TSan, whose allocators replace glibc's.
#include "server/lifecycle/malloc_settings.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AFFINITY_GLIBC_MALLOC 0
#else
#define AFFINITY_GLIBC_MALLOC 1
#endif

namespace affinity::server {
namespace {

// Bytes glibc holds in blocks mapped on their own.
size_t MappedBytes() { return mallinfo2().hblkhd; }

// A block written through, which the compiler may not leave out (it may drop
// a malloc whose block is only freed).
void* Touched(size_t bytes) {
  void* block = std::malloc(bytes);
  std::memset(block, 1, bytes);
  asm volatile("" : : "g"(block) : "memory");
  return block;
}

TEST(MallocSettingsTest, BlocksFreedAfterABigFreeGoBackToTheSystem) {
  if (!AFFINITY_GLIBC_MALLOC) GTEST_SKIP() << "a sanitizer's allocator replaces glibc's";

  // The operator's values are kept.
  for (const auto& [variable, value] :
       {std::pair{"MALLOC_MMAP_THRESHOLD_", "65536"}, {"MALLOC_TRIM_THRESHOLD_", "65536"},
        {"GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536"},
        {"GLIBC_TUNABLES", "glibc.malloc.trim_threshold=65536"}}) {
    ASSERT_EQ(setenv(variable, value, 1), 0);
    EXPECT_FALSE(FixMallocThresholds()) << variable << "=" << value;
    ASSERT_EQ(unsetenv(variable), 0);
  }

  ASSERT_TRUE(FixMallocThresholds());

  // A retired version's matrix: mapped, then freed (glibc's default would
  // raise its threshold to 16 MiB here).
  std::free(Touched(16 << 20));

  // The next version's mid-size blocks, at the threshold and above.
  const size_t before = MappedBytes();
  std::vector<void*> blocks;
  for (int i = 0; i < 32; ++i) blocks.push_back(Touched(kFixedMmapThresholdBytes + i * 32768));
  void* pin = Touched(64);  // a live small block after them
  EXPECT_GE(MappedBytes() - before, 32 * kFixedMmapThresholdBytes);

  for (void* block : blocks) std::free(block);
  EXPECT_EQ(MappedBytes(), before);
  std::free(pin);

  // Below the threshold, blocks stay in the arenas (requests' allocations
  // do not pay a mapping each), and freed, the arena keeps their space at its
  // top for the next ones.
  std::vector<void*> smaller;
  for (int i = 0; i < 16; ++i) smaller.push_back(Touched(kFixedMmapThresholdBytes / 2));
  EXPECT_EQ(MappedBytes(), before);
  for (auto block = smaller.rbegin(); block != smaller.rend(); ++block) std::free(*block);
  EXPECT_GE(mallinfo2().keepcost, 16 * kFixedMmapThresholdBytes / 2);
}

}  // namespace
}  // namespace affinity::server
