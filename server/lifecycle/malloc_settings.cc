#include "server/lifecycle/malloc_settings.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace affinity::server {
namespace {

bool EnvironmentSetsMmapThreshold() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr;
}

}  // namespace

bool FixMallocMmapThreshold() {
  if (EnvironmentSetsMmapThreshold()) return false;
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kFixedMmapThresholdBytes)) == 1;
}

}  // namespace affinity::server
