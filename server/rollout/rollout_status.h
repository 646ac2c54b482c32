// A store's rollout as affinity.v1.RolloutStatus, and the one-call write
// path, shared by the RolloutAdmin service (server/rpc/) and the
// `affinity rollout` CLI so that both read, write and refuse alike.
//
// Contract:
//  - ReadRolloutStatus never fails because nothing can serve: the stored
//    state is returned with an empty `resolved` and `unresolved_reason`.
//  - OpenRolloutWriter opens DIR/models read-write, waiting at most
//    lock_wait_ms for another writer; Unavailable "busy, retry: ..."
//    when the lock stays held, NotFound when DIR holds no model store (no
//    store is created).
//  - WriteRollout opens, writes one change and closes the store: it holds
//    the store's write lock only for the call. Errors are the store's
//    (ModelStore::UpdateRollout) or ValidateChangeInfo's.
//  - Pure functions apart from the store I/O; thread-safe as the store is.
//    Nothing throws.
#ifndef AFFINITY_SERVER_ROLLOUT_ROLLOUT_STATUS_H_
#define AFFINITY_SERVER_ROLLOUT_ROLLOUT_STATUS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/rollout.pb.h"
#include "storage/model_store.h"

namespace affinity::server::rollout {

// Limits of the history fields of a change.
inline constexpr size_t kMaxChangeByBytes = 256;
inline constexpr size_t kMaxChangeActionBytes = 32;
inline constexpr size_t kMaxChangeReasonBytes = 1024;

// How long a one-call write waits for another writer's lock by default.
inline constexpr int kRolloutLockWaitMs = 5000;

// The state, its resolution and `dir` (reported as the store).
absl::StatusOr<affinity::v1::RolloutStatus> ReadRolloutStatus(const storage::ModelStore& store,
                                                              const std::string& dir);

// by: at most 256 bytes; action: 1..32 bytes of [a-z-]; reason: at most
// 1024 bytes. InvalidArgument naming the field otherwise.
absl::Status ValidateChangeInfo(const storage::RolloutChangeInfo& change);

absl::StatusOr<std::unique_ptr<storage::ModelStore>> OpenRolloutWriter(
    const std::string& dir, int lock_wait_ms = kRolloutLockWaitMs);

// Validates `change`, opens the store, UpdateRollout(expected_revision,
// next, change), and returns the status read back before closing.
absl::StatusOr<affinity::v1::RolloutStatus> WriteRollout(const std::string& dir,
                                                         uint64_t expected_revision,
                                                         const affinity::v1::RolloutState& next,
                                                         const storage::RolloutChangeInfo& change,
                                                         int lock_wait_ms = kRolloutLockWaitMs);

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_ROLLOUT_STATUS_H_
