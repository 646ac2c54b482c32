// Autopilot: applies the rollout policy's auto-promotion rule. Under the
// CANARY policy with auto_promote enabled, once the canary and control arms
// have enough impressions (counted over every server's events store of the
// store, forced-arm traffic left out) and the canary is not worse
// (auto_promote.h), the canary becomes control: a rollout change with
// action "auto-promote" whose reason holds the rule and the figures. A
// decision to wait changes nothing. The write is conditional on the
// revision read, so several servers running their autopilot promote once.
// Not thread-safe: one background thread calls RunOnce.
#ifndef AFFINITY_SERVER_ROLLOUT_AUTOPILOT_H_
#define AFFINITY_SERVER_ROLLOUT_AUTOPILOT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/event_reader.h"
#include "storage/model_store.h"

namespace affinity::server::rollout {

class Autopilot {
 public:
  // `store` (a follower of DIR/models) must outlive the autopilot; `by`
  // names it in the history (e.g. "autopilot on host:50051").
  Autopilot(std::string dir, const storage::ModelStore* store, std::string by)
      : dir_(std::move(dir)), store_(store), by_(std::move(by)) {}

  // What it did, in words ("" when there is nothing to decide: no canary
  // or no rule). Errors are the store's and the events reader's.
  absl::StatusOr<std::string> RunOnce();

 private:
  std::string dir_;
  const storage::ModelStore* store_;
  std::string by_;
  std::unique_ptr<storage::EventReader> events_;
};

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_AUTOPILOT_H_
