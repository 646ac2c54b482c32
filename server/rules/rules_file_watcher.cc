#include "server/rules/rules_file_watcher.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rules/rule_config_loader.h"

namespace affinity::server::rules {
namespace {

int64_t FileMtimeNs(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
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
      mtime_ns_(FileMtimeNs(path_)) {}

void RulesFileWatcher::Check(bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) return;
  const int64_t mtime = FileMtimeNs(path_);
  if (!force && mtime == mtime_ns_) return;
  mtime_ns_ = mtime;
  auto loaded = LoadRulesFile(path_, max_k_);
  if (!loaded.ok()) {
    log_(absl::StrCat("rules rejected, keeping the previous rules: ", loaded.status().message()));
    return;
  }
  engine_->SetRules(*loaded);
  log_(absl::StrCat("rules reloaded from ", path_, " (rule sets: ",
                    absl::StrJoin((*loaded)->Names(), ", "), ")"));
  if (reloaded_) reloaded_();
}

}  // namespace affinity::server::rules
