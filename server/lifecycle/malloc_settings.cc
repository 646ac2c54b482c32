#include "server/lifecycle/malloc_settings.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace affinity::server {
namespace {

// Whether the process's environment sets a malloc parameter, as
// MALLOC_<NAME>_ or as glibc.malloc.<tunable> in GLIBC_TUNABLES.
bool EnvironmentSets(const char* variable, const char* tunable) {
  if (std::getenv(variable) != nullptr) return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr && std::strstr(tunables, tunable) != nullptr;
}

bool Set(int parameter, size_t value, const char* variable, const char* tunable) {
  if (EnvironmentSets(variable, tunable)) return false;
  return mallopt(parameter, static_cast<int>(value)) == 1;
}

}  // namespace

bool FixMallocThresholds() {
  const bool mmap_set = Set(M_MMAP_THRESHOLD, kFixedMmapThresholdBytes, "MALLOC_MMAP_THRESHOLD_",
                            "glibc.malloc.mmap_threshold");
  const bool trim_set = Set(M_TRIM_THRESHOLD, kFixedTrimThresholdBytes, "MALLOC_TRIM_THRESHOLD_",
                            "glibc.malloc.trim_threshold");
  return mmap_set && trim_set;
}

}  // namespace affinity::server
