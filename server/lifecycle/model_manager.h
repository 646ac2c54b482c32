// ModelManager: serves the versions the rollout aspires to (TensorFlow
// Serving's aspired-versions manager). Composition:
//   RolloutSource  (rollout_source.h)  what the store says should serve;
//   VersionLoader  (version_loader.h)  makes one version ready, warm;
//   RoutingTable   (routing_table.h)   arms -> loaded versions, routing.
//
// Contract:
//  - Poll() asks the source for the resolved rollout. When it changed, every
//    version it names that is not loaded yet is loaded beside the serving
//    ones; then one new RoutingTable replaces the old one in a single
//    pointer swap. One loaded copy per version, however many arms use it; a
//    version no arm (or shadow) uses any more is released; once the last
//    request holding it has finished, a later Poll frees it (never a request
//    thread: freeing a large version takes milliseconds).
//  - A request takes a route (a shared_ptr to its model) and keeps that
//    version to its end, whatever swaps happen meanwhile.
//  - A version that fails to load is reported to the failure listeners and
//    left out: its arm's users go to control; if control's version fails,
//    the previous table keeps serving. It is retried when the rollout
//    changes again, not at every poll. Except a first NotFound: a
//    follower's catch-up reads the writer's file list before its log, so it
//    can see a version's publish marker (logged) without the records
//    flushed just before it; the next Poll's catch-up, which starts after
//    this one saw the marker, sees them. Such a version is loaded again at
//    the next Poll, and only a second NotFound in a row is reported.
// Thread-safe: routing runs concurrently with Poll; one Poll at a time.
#ifndef AFFINITY_SERVER_LIFECYCLE_MODEL_MANAGER_H_
#define AFFINITY_SERVER_LIFECYCLE_MODEL_MANAGER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/lifecycle/loaded_model.h"
#include "server/lifecycle/rollout_source.h"
#include "server/lifecycle/routing_table.h"
#include "server/lifecycle/version_loader.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

inline constexpr char kControlArm[] = "control";

struct ModelManagerOptions {
  ScorerOptions scorer;
  // Nice value of the thread that loads a version beside a serving one
  // (reads, index builds, warm-ups; threads it starts inherit it) and frees
  // released ones, so that it takes the cores only when request threads
  // leave them idle. The polling itself (the store's catch-up, which holds
  // the database mutex that request reads may need) keeps the process's
  // priority. 0: loads run at the process's priority too.
  int poll_thread_nice = 10;
  // Those threads also run under SCHED_IDLE (see niced_thread.h).
  bool load_sched_idle = false;
};

class ModelManager {
 public:
  // Called from the polling thread after a new table is in place, once per
  // arm whose version changed, with that arm's previous version (0: none).
  using SwapListener = std::function<void(const std::string& arm, const LoadedModel& model,
                                          uint64_t previous_version)>;
  using FailureListener = std::function<void(uint64_t version, const absl::Status& status)>;
  // Called after every version load (an arm's or the shadow's), before the
  // version serves.
  using LoadListener = std::function<void(const LoadedModel& model)>;
  // Called after every table swap, with what was left out and why.
  using RoutingListener =
      std::function<void(const RoutingTable& table, const std::vector<std::string>& warnings)>;
  using PollListener = std::function<void(const absl::Status& status)>;
  using Route = RoutingTable::Route;

  // `store` is a follower of the served store.
  ModelManager(std::unique_ptr<storage::ModelStore> store, ModelManagerOptions options);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Set before polling starts.
  void SetWarmUp(VersionLoader::WarmUp warm_up);
  void AddSwapListener(SwapListener listener);
  void AddFailureListener(FailureListener listener);
  void AddLoadListener(LoadListener listener);
  void AddRoutingListener(RoutingListener listener);
  void SetPollListener(PollListener listener);

  // OK when the serving table matches the rollout (or was just swapped
  // in); NotFound while no eligible version is published; a load error
  // (the previous versions keep serving where that one would have).
  absl::Status Poll();

  // Runs Poll at once and then every `period` on a background thread until
  // StopPolling or destruction. StopPolling cancels a load in progress.
  void StartPolling(std::chrono::milliseconds period);
  void StopPolling();

  // The arm and model for a request's unit (user id, else session id; empty
  // goes to control), or its forced arm (InvalidArgument for an unknown
  // one). Unavailable before the first model is loaded.
  absl::StatusOr<Route> RouteRequest(absl::string_view unit, absl::string_view forced_arm) const;
  // Control's route (SimilarItems, warm-ups); model null when none yet.
  Route ControlRoute() const;

  // The serving table; null before the first model is loaded.
  std::shared_ptr<const RoutingTable> routing() const;
  // arm -> version of every serving arm.
  std::map<std::string, uint64_t> ServingVersions() const;
  // The serving models, arms and shadow, one per version (RoutingTable::
  // models); empty before the first model is loaded.
  std::vector<std::shared_ptr<const LoadedModel>> ServingModels() const;
  bool HasModel() const;
  const storage::ModelStore& store() const { return source_.store(); }

 private:
  void PollLoop(std::chrono::milliseconds period);
  // Frees the retired versions no request holds any more. Requires poll_mu_.
  void FreeRetired();

  RolloutSource source_;
  VersionLoader loader_;
  const int poll_thread_nice_;
  const bool load_sched_idle_;
  std::mutex poll_mu_;  // one Poll at a time; guards the fields below it
  std::string applied_rollout_;  // serialized ResolvedRollout of the table
  std::string failed_rollout_;   // the rollout under which failed_ failed
  std::map<uint64_t, absl::Status> failed_;
  std::set<uint64_t> not_found_once_;  // loaded again at the next Poll
  // Versions released from serving, kept until no request holds them.
  std::vector<std::shared_ptr<const LoadedModel>> retired_;
  std::vector<SwapListener> swap_listeners_;
  std::vector<FailureListener> failure_listeners_;
  std::vector<LoadListener> load_listeners_;
  std::vector<RoutingListener> routing_listeners_;
  PollListener poll_listener_;

  mutable std::mutex mu_;
  std::shared_ptr<const RoutingTable> table_;                     // guarded by mu_
  std::map<uint64_t, std::shared_ptr<const LoadedModel>> loaded_;  // guarded by mu_

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
