#include "server/lifecycle/model_manager.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {

ModelManager::ModelManager(std::unique_ptr<storage::ModelStore> store,
                           ModelManagerOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  options_.scorer.cancel = &cancel_loads_;
}

ModelManager::~ModelManager() { StopPolling(); }

void ModelManager::AddSwapListener(SwapListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  swap_listeners_.push_back(std::move(listener));
}

void ModelManager::AddFailureListener(FailureListener listener) {
  std::lock_guard<std::mutex> lock(poll_mu_);
  failure_listeners_.push_back(std::move(listener));
}

void ModelManager::SetPollListener(PollListener listener) {
  poll_listener_ = std::move(listener);
}

absl::Status ModelManager::Poll() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  if (absl::Status s = store_->Refresh(); !s.ok()) return s;
  absl::StatusOr<uint64_t> live = store_->LiveVersion();
  if (!live.ok()) return live.status();
  std::shared_ptr<const LoadedModel> current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = arms_.find(kControlArm);
    if (it != arms_.end()) current = it->second;
  }
  if (current != nullptr && current->version == *live) return absl::OkStatus();
  // A version that failed to load is retried only when the live version
  // changes again, so a broken version is reported once, not every poll.
  if (*live == last_failed_version_) {
    return absl::FailedPreconditionError(
        absl::StrCat("model version ", *live, " failed to load earlier"));
  }
  absl::StatusOr<std::shared_ptr<const LoadedModel>> loaded = [&]()
      -> absl::StatusOr<std::shared_ptr<const LoadedModel>> {
    auto reader = store_->OpenVersion(*live);
    if (!reader.ok()) return reader.status();
    return LoadModel(std::move(*reader), options_.scorer);
  }();
  if (!loaded.ok()) {
    if (absl::IsCancelled(loaded.status())) return loaded.status();
    last_failed_version_ = *live;
    for (const auto& listener : failure_listeners_) listener(*live, loaded.status());
    return loaded.status();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    arms_[kControlArm] = *loaded;
  }
  const uint64_t previous = current == nullptr ? 0 : current->version;
  current.reset();  // the old version is freed here or by its last request
  for (const auto& listener : swap_listeners_) listener(kControlArm, **loaded, previous);
  return absl::OkStatus();
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

ModelManager::Route ModelManager::RouteRequest(absl::string_view user_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Single arm today; a rollout picks an arm from a hash of user_id here.
  (void)user_id;
  auto it = arms_.find(kControlArm);
  if (it == arms_.end()) return Route{nullptr, kControlArm};
  return Route{it->second, kControlArm};
}

std::map<std::string, uint64_t> ModelManager::ServingVersions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [arm, model] : arms_) out[arm] = model->version;
  return out;
}

bool ModelManager::HasModel() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !arms_.empty();
}

}  // namespace affinity::server
