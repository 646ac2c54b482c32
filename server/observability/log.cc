#include "server/observability/log.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace affinity::server {

void LogLine(const std::string& message) {
  std::fprintf(stderr, "%s affinity-server: %s\n",
               absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()).c_str(),
               message.c_str());
  std::fflush(stderr);
}

}  // namespace affinity::server
