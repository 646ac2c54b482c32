#include "server/rules/rules_file_watcher.h"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rules/rule_config_loader.h"

namespace affinity::server::rules {
namespace {

RulesFileWatcher::FileState StateOf(const std::string& path) {
  RulesFileWatcher::FileState state;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return state;
  state.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  state.size = static_cast<int64_t>(st.st_size);
  state.inode = static_cast<int64_t>(st.st_ino);
  return state;
}

}  // namespace

RulesFileWatcher::RulesFileWatcher(std::string path, int max_k, RuleEngine* engine,
                                   std::function<void(const std::string&)> log,
                                   std::function<void()> reloaded)
    : path_(std::move(path)),
      max_k_(max_k),
      engine_(engine),
      log_(std::move(log)),
      reloaded_(std::move(reloaded)),
      read_(StateOf(path_)),
      seen_(read_) {}

void RulesFileWatcher::Check(bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) return;
  const FileState now = StateOf(path_);
  const bool settled = now == seen_;
  seen_ = now;
  if (!force && (now == read_ || !settled)) return;
  read_ = now;
  auto loaded = LoadRulesFile(path_, max_k_);
  if (!loaded.ok()) {
    log_(absl::StrCat("rules rejected, keeping the previous rules: ", loaded.status().message()));
    return;
  }
  const std::vector<std::string> before = engine_->rules()->Names();
  const std::vector<std::string> after = (*loaded)->Names();
  std::vector<std::string> removed;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(removed));
  engine_->SetRules(*loaded);
  log_(absl::StrCat("rules reloaded from ", path_, " (rule sets: ", absl::StrJoin(after, ", "),
                    ")",
                    removed.empty() ? "" : absl::StrCat("; removed: ", absl::StrJoin(removed, ", "))));
  if (reloaded_) reloaded_();
}

}  // namespace affinity::server::rules
