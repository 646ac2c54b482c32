// What each `affinity rollout` change does to a rollout state, as pure
// functions of the current RolloutStatus (stored state + its resolution):
//
//  - SetArm: `--arm=control --version=N` pins control to N (the resolved
//    control becomes previous_control_version), `--version=0` unpins it;
//    a treatment arm is added or resized (`--fraction`) or moved to another
//    version (`--version`), and removed with a fraction of 0. "canary" is
//    the policy's arm and cannot be set.
//  - Promote: the named arm, or the only non-control arm (explicit or the
//    policy's canary), becomes control: control_version = its version,
//    previous_control_version = the old control, its explicit arm removed.
//  - Rollback: when arms other than control serve, all traffic goes back to
//    control at once: every explicit arm is removed and a serving canary is
//    kept out (canary_after_version = its version). Otherwise control goes
//    back to previous_control_version (pinned), and a newer version rolled
//    away from is kept out of the canary arm (canary_after_version).
//  - SetShadow: version and share of the shadow; a fraction of 0 turns it
//    off.
//  - SetPolicy: CONTROL (new eligible versions become control; the canary
//    share and auto-promotion are cleared) or CANARY (they start as the
//    arm "canary" at canary_fraction; a control that follows the newest
//    version is pinned to the currently resolved control version, or the
//    canary arm would stay empty).
//
// Contract: InvalidArgument names the flag at fault (exit code 2);
// FailedPrecondition when the state does not allow the change (nothing to
// roll back or promote, nothing can serve). Whether the versions exist and
// may take traffic is left to the store, which refuses with its reason.
// Pure functions, thread-safe; nothing throws.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_TRANSITIONS_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_TRANSITIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/rollout.pb.h"

namespace affinity::cli {

struct RolloutEdit {
  // The state to store (revision and updated_* are the store's business).
  affinity::v1::RolloutState next;
  // For the history: "set", "pin", "unpin", "promote", "rollback",
  // "shadow", "policy".
  std::string action;
  // What the change does, in words, e.g. "promote arm treatment: version 3
  // becomes control (was version 1)".
  std::string summary;
};

absl::StatusOr<RolloutEdit> SetArm(const affinity::v1::RolloutStatus& current,
                                   const std::string& arm, std::optional<uint64_t> version,
                                   std::optional<int32_t> basis_points);

absl::StatusOr<RolloutEdit> Promote(const affinity::v1::RolloutStatus& current,
                                    const std::optional<std::string>& arm);

absl::StatusOr<RolloutEdit> Rollback(const affinity::v1::RolloutStatus& current);

absl::StatusOr<RolloutEdit> SetShadow(const affinity::v1::RolloutStatus& current,
                                      std::optional<uint64_t> version,
                                      std::optional<int32_t> basis_points);

struct PolicyChange {
  affinity::v1::NewVersionPolicy::Mode mode = affinity::v1::NewVersionPolicy::CONTROL;
  // CANARY: the canary's share (kept from the state when not given).
  std::optional<int32_t> canary_basis_points;
  // Set: auto-promotion on with this rule; disable_auto_promote: off;
  // neither: as it was (CANARY only).
  std::optional<affinity::v1::AutoPromoteRule> auto_promote;
  bool disable_auto_promote = false;
};

absl::StatusOr<RolloutEdit> SetPolicy(const affinity::v1::RolloutStatus& current,
                                      const PolicyChange& change);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_TRANSITIONS_H_
