// RulesFileWatcher: reloads the --rules file into a RuleEngine when it
// changes (Check) or on demand (SIGHUP: Check(true)). A file that does not
// load (unreadable, malformed, or without any rule: see LoadRulesFile) is
// logged and the previous rules keep serving. Thread-safe (one check at a
// time).
//
// A change is the file's modification time, size or inode (a file renamed
// over it) differing from the last load. A changed file is read only once
// it has looked the same at two consecutive checks, so a file that is still
// being written when a check sees it is left for the next check; Check(true)
// reads at once.
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
  // rejection (a reload names the rule sets it removed); `reloaded` runs
  // after new rules are in place. An empty path watches nothing.
  RulesFileWatcher(std::string path, int max_k, RuleEngine* engine,
                   std::function<void(const std::string&)> log, std::function<void()> reloaded);

  void Check(bool force);

  // What a check compares; all -1 when the file cannot be stat'ed.
  struct FileState {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    int64_t inode = -1;
    bool operator==(const FileState& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
    bool operator!=(const FileState& o) const { return !(*this == o); }
  };

 private:
  const std::string path_;
  const int max_k_;
  RuleEngine* engine_;
  std::function<void(const std::string&)> log_;
  std::function<void()> reloaded_;
  std::mutex mu_;
  FileState read_;    // the file as last read; guarded by mu_
  FileState seen_;    // the file at the previous check; guarded by mu_
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULES_FILE_WATCHER_H_
