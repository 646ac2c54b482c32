// The server's log: one line per event on stderr, "<UTC time> affinity-server:
// <message>", flushed at once (journald and files see whole lines).
// Thread-safe (one fprintf per line).
#ifndef AFFINITY_SERVER_OBSERVABILITY_LOG_H_
#define AFFINITY_SERVER_OBSERVABILITY_LOG_H_

#include <string>

namespace affinity::server {

void LogLine(const std::string& message);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_OBSERVABILITY_LOG_H_
