#include "server/lifecycle/model_manager.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/lifecycle/niced_thread.h"

namespace affinity::server {

ModelManager::ModelManager(std::unique_ptr<storage::ModelStore> store,
                           ModelManagerOptions options)
    : source_(std::move(store)),
      loader_(std::move(options.scorer)),
      poll_thread_nice_(options.poll_thread_nice),
      load_sched_idle_(options.load_sched_idle) {
  loader_.options().cancel = &cancel_loads_;
}

ModelManager::~ModelManager() { StopPolling(); }

void ModelManager::SetWarmUp(VersionLoader::WarmUp warm_up) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  loader_.SetWarmUp(std::move(warm_up));
}

void ModelManager::AddSwapListener(SwapListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  swap_listeners_.push_back(std::move(listener));
}

void ModelManager::AddFailureListener(FailureListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  failure_listeners_.push_back(std::move(listener));
}

void ModelManager::AddLoadListener(LoadListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  load_listeners_.push_back(std::move(listener));
}

void ModelManager::AddRoutingListener(RoutingListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  routing_listeners_.push_back(std::move(listener));
}

void ModelManager::SetPollListener(PollListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  poll_listener_ = std::move(listener);
}

absl::Status ModelManager::Poll() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  FreeRetired();
  absl::StatusOr<affinity::v1::ResolvedRollout> aspired = source_.Aspired();
  if (!aspired.ok()) return aspired.status();
  const std::string key = aspired->SerializeAsString();
  if (key == applied_rollout_) return absl::OkStatus();
  if (key != failed_rollout_) {  // a new rollout retries every version
    failed_.clear();
    not_found_once_.clear();
  }

  std::set<uint64_t> wanted;
  for (const auto& arm : aspired->arms()) wanted.insert(arm.version());
  if (aspired->shadow().version() != 0) wanted.insert(aspired->shadow().version());
  std::map<uint64_t, std::shared_ptr<const LoadedModel>> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t v : wanted) {
      auto it = loaded_.find(v);
      if (it != loaded_.end()) next.emplace(v, it->second);
    }
  }
  absl::Status first_failure = absl::OkStatus();
  bool load_again = false;  // a version to load again at the next Poll
  for (uint64_t version : wanted) {
    if (next.count(version)) continue;
    auto failed = failed_.find(version);
    if (failed != failed_.end()) {
      if (first_failure.ok()) first_failure = failed->second;
      continue;
    }
    absl::StatusOr<std::shared_ptr<const LoadedModel>> model = absl::UnknownError("not loaded");
    // Niced only beside a serving version: a first load has nobody to yield to.
    RunOnNicedThread(HasModel() ? poll_thread_nice_ : 0,
                     [&] { model = loader_.Load(source_.store(), version); },
                     HasModel() && load_sched_idle_);
    if (!model.ok()) {
      if (absl::IsCancelled(model.status())) return model.status();
      const absl::Status status(model.status().code(),
                                absl::StrCat("model version ", version, " failed to load: ",
                                             model.status().message()));
      // Possibly a catch-up that saw the marker but not the records (see the
      // header): the next Poll loads it again before it counts as failed.
      if (absl::IsNotFound(model.status()) && not_found_once_.insert(version).second) {
        failed_rollout_ = key;
        load_again = true;
        if (first_failure.ok()) first_failure = status;
        continue;
      }
      failed_[version] = status;
      failed_rollout_ = key;
      for (const auto& listener : failure_listeners_) listener(version, model.status());
      if (first_failure.ok()) first_failure = status;
      continue;
    }
    not_found_once_.erase(version);
    for (const auto& listener : load_listeners_) listener(**model);
    next.emplace(version, *std::move(model));
  }

  std::vector<std::string> warnings(aspired->warnings().begin(), aspired->warnings().end());
  absl::StatusOr<std::shared_ptr<const RoutingTable>> table =
      RoutingTable::Build(*aspired, next, &warnings);
  if (!table.ok()) return first_failure.ok() ? table.status() : first_failure;
  std::shared_ptr<const RoutingTable> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = std::move(table_);
    table_ = *table;
    for (auto& [version, model] : loaded_) {
      if (next.count(version) == 0) retired_.push_back(std::move(model));
    }
    loaded_ = std::move(next);
  }
  if (!load_again) applied_rollout_ = key;
  for (const ArmServable& arm : (*table)->arms()) {
    uint64_t before = 0;
    if (previous != nullptr) {
      for (const ArmServable& old : previous->arms()) {
        if (old.name == arm.name) before = old.version;
      }
    }
    if (before == arm.version) continue;
    for (const auto& listener : swap_listeners_) listener(arm.name, *arm.model, before);
  }
  previous.reset();
  for (const auto& listener : routing_listeners_) listener(**table, warnings);
  FreeRetired();
  return first_failure;
}

void ModelManager::FreeRetired() {
  std::vector<std::shared_ptr<const LoadedModel>> unused;
  for (auto it = retired_.begin(); it != retired_.end();) {
    // Nobody else can take a new reference: the version is in no table.
    if (it->use_count() == 1) {
      unused.push_back(std::move(*it));
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
  if (!unused.empty()) {
    RunOnNicedThread(poll_thread_nice_, [&] { unused.clear(); }, load_sched_idle_);
  }
}

void ModelManager::StartPolling(std::chrono::milliseconds period) {
  StopPolling();
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = false;
  }
  poller_ = std::thread([this, period] { PollLoop(period); });
}

void ModelManager::StopPolling() {
  cancel_loads_ = true;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  cancel_loads_ = false;
}

void ModelManager::PollLoop(std::chrono::milliseconds period) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  do {
    lock.unlock();
    const absl::Status status = Poll();
    if (poll_listener_) poll_listener_(status);
    lock.lock();
  } while (!stop_cv_.wait_for(lock, period, [this] { return stopping_; }));
}

absl::StatusOr<ModelManager::Route> ModelManager::RouteRequest(
    absl::string_view unit, absl::string_view forced_arm) const {
  std::shared_ptr<const RoutingTable> table = routing();
  if (table == nullptr) return absl::UnavailableError("no model loaded yet");
  return table->RouteUnit(unit, forced_arm);
}

ModelManager::Route ModelManager::ControlRoute() const {
  std::shared_ptr<const RoutingTable> table = routing();
  if (table == nullptr) return Route{nullptr, kControlArm, false};
  return Route{table->control().model, table->control().name, false};
}

std::shared_ptr<const RoutingTable> ModelManager::routing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

std::vector<std::shared_ptr<const LoadedModel>> ModelManager::ServingModels() const {
  std::shared_ptr<const RoutingTable> table = routing();
  if (table == nullptr) return {};
  return table->models();
}

std::map<std::string, uint64_t> ModelManager::ServingVersions() const {
  std::map<std::string, uint64_t> out;
  std::shared_ptr<const RoutingTable> table = routing();
  if (table == nullptr) return out;
  for (const ArmServable& arm : table->arms()) out[arm.name] = arm.version;
  return out;
}

bool ModelManager::HasModel() const { return routing() != nullptr; }

}  // namespace affinity::server
