// RulesFileWatcher: reloads the --rules file into a RuleEngine when its
// modification time changes (Check) or on demand (SIGHUP: Check(true)). A
// file that does not parse is logged and the previous rules keep serving.
// Thread-safe (one check at a time).
#ifndef AFFINITY_SERVER_RULES_RULES_FILE_WATCHER_H_
#define AFFINITY_SERVER_RULES_RULES_FILE_WATCHER_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "server/rules/rule_engine.h"

namespace affinity::server::rules {

class RulesFileWatcher {
 public:
  // `engine` must outlive the watcher; `log` gets one line per reload or
  // rejection; `reloaded` runs after new rules are in place. An empty path
  // watches nothing.
  RulesFileWatcher(std::string path, int max_k, RuleEngine* engine,
                   std::function<void(const std::string&)> log, std::function<void()> reloaded);

  void Check(bool force);

 private:
  const std::string path_;
  const int max_k_;
  RuleEngine* engine_;
  std::function<void(const std::string&)> log_;
  std::function<void()> reloaded_;
  std::mutex mu_;
  int64_t mtime_ns_ = -1;  // guarded by mu_
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULES_FILE_WATCHER_H_
