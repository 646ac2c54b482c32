// AllocateScanMemory and the matrices the scorers scan: small blocks are
// 64-byte aligned; from 2 MiB on they are 2 MiB aligned and the kernel has
// them advised as transparent huge pages (the "hg" flag of their mapping in
// /proc/self/smaps), including the float item matrix and its int8 copy as
// the server builds them.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "server/scoring/int8_matrix.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_memory.h"

namespace affinity::server {
namespace {

struct FreeMemory {
  void operator()(void* p) const { std::free(p); }
};

bool KernelHasHugePages() {
  return access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
}

// The VmFlags of the mapping holding `address` in /proc/self/smaps, "" when
// no mapping holds it.
std::string VmFlagsOf(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream range(line);
    // A mapping's first line starts "from-to " in hex; no field line does.
    if (range >> std::hex >> from >> dash >> to && dash == '-') inside = from <= at && at < to;
    if (inside && line.rfind("VmFlags:", 0) == 0) return line.substr(8);
  }
  return "";
}

bool AdvisedHuge(const void* address) {
  std::istringstream flags(VmFlagsOf(address));
  std::string flag;
  while (flags >> flag) {
    if (flag == "hg") return true;
  }
  return false;
}

TEST(ScanMemoryTest, SmallBlocksAreCacheLineAlignedAndNotAdvised) {
  std::unique_ptr<void, FreeMemory> p(AllocateScanMemory(1000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % 64, 0u);
  std::memset(p.get(), 1, 1000);
}

TEST(ScanMemoryTest, LargeBlocksAreHugePageAlignedAndAdvised) {
  if (!KernelHasHugePages()) GTEST_SKIP() << "kernel without transparent huge pages";
  constexpr size_t kBytes = 3 * kHugePageBytes + 5;
  std::unique_ptr<void, FreeMemory> p(AllocateScanMemory(kBytes));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % kHugePageBytes, 0u);
  std::memset(p.get(), 1, kBytes);  // every byte asked for is usable
  EXPECT_TRUE(AdvisedHuge(p.get())) << VmFlagsOf(p.get());
  EXPECT_TRUE(AdvisedHuge(static_cast<char*>(p.get()) + kBytes - 1)) << VmFlagsOf(p.get());
}

TEST(ScanMemoryTest, UnallocatableSizesReturnNull) {
  EXPECT_EQ(AllocateScanMemory(SIZE_MAX), nullptr);
  EXPECT_EQ(AllocateScanMemory(SIZE_MAX - kHugePageBytes / 2), nullptr);
}

TEST(ScanMemoryTest, TheScannedMatricesLiveInAdvisedMemory) {
  if (!KernelHasHugePages()) GTEST_SKIP() << "kernel without transparent huge pages";
  // 40,000 x 64 floats: 10 MB; the int8 copy: 2.6 MB.
  ItemMatrix items(40000, 64);
  for (size_t i = 0; i < items.rows(); ++i) items.mutable_row(i)[i % 64] = 1.0f;
  const Int8Matrix int8(items);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(items.data()) % kHugePageBytes, 0u);
  EXPECT_TRUE(AdvisedHuge(items.data())) << VmFlagsOf(items.data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(int8.block(0)) % kHugePageBytes, 0u);
  EXPECT_TRUE(AdvisedHuge(int8.block(0))) << VmFlagsOf(int8.block(0));
  // Small matrices stay in ordinary memory.
  ItemMatrix small(100, 64);
  EXPECT_FALSE(AdvisedHuge(small.data())) << VmFlagsOf(small.data());
}

}  // namespace
}  // namespace affinity::server
