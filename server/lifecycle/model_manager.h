// ModelManager: which model versions are serving, and swapping them while
// requests are in flight (TensorFlow Serving's servables / aspired versions).
//
// Contract:
//  - Each A/B arm maps to one std::shared_ptr<const LoadedModel>. A request
//    takes a snapshot (Route) and keeps using that version even if a swap
//    happens meanwhile; a replaced version is freed when its last request
//    drops the snapshot.
//  - Poll() refreshes the store (follower), and when ModelStore::LiveVersion
//    differs from the version serving the "control" arm, loads it fully and
//    then swaps it in with one pointer exchange. A failed load leaves the
//    serving version untouched.
//  - Today there is a single arm, "control". A rollout adds arms with a
//    fraction of users each; Route already hashes the user id to pick one.
#ifndef AFFINITY_SERVER_LIFECYCLE_MODEL_MANAGER_H_
#define AFFINITY_SERVER_LIFECYCLE_MODEL_MANAGER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/lifecycle/loaded_model.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

inline constexpr char kControlArm[] = "control";

struct ModelManagerOptions {
  ScorerOptions scorer;
};

class ModelManager {
 public:
  // Called after a version was loaded and swapped in (from the thread that
  // ran Poll), with the previous version of that arm (0 when none).
  using SwapListener = std::function<void(const std::string& arm, const LoadedModel& model,
                                          uint64_t previous_version)>;
  using FailureListener = std::function<void(uint64_t version, const absl::Status& status)>;

  ModelManager(std::unique_ptr<storage::ModelStore> store, ModelManagerOptions options);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Called with the result of every Poll made by the polling thread.
  using PollListener = std::function<void(const absl::Status& status)>;

  void AddSwapListener(SwapListener listener);
  void AddFailureListener(FailureListener listener);
  void SetPollListener(PollListener listener);

  // Refresh + load the live version if it is not serving. OK when nothing
  // changed; NotFound while no version is published; the load error
  // otherwise (the serving version stays).
  absl::Status Poll();

  // Runs Poll at once and then every `period` on a background thread until
  // StopPolling or destruction. StopPolling cancels a load in progress.
  void StartPolling(std::chrono::milliseconds period);
  void StopPolling();

  struct Route {
    std::shared_ptr<const LoadedModel> model;  // null when nothing is loaded
    std::string arm;
  };
  Route RouteRequest(absl::string_view user_id) const;

  // arm -> version of every serving model.
  std::map<std::string, uint64_t> ServingVersions() const;
  bool HasModel() const;

 private:
  void PollLoop(std::chrono::milliseconds period);

  std::unique_ptr<storage::ModelStore> store_;
  ModelManagerOptions options_;
  std::mutex poll_mu_;  // one Poll at a time

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const LoadedModel>> arms_;  // guarded by mu_
  uint64_t last_failed_version_ = 0;                                 // guarded by poll_mu_
  std::vector<SwapListener> swap_listeners_;
  std::vector<FailureListener> failure_listeners_;
  PollListener poll_listener_;  // set before StartPolling

  // Set by StopPolling so a load in progress (an HNSW build can take
  // minutes) gives up instead of delaying shutdown.
  std::atomic<bool> cancel_loads_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_MODEL_MANAGER_H_
