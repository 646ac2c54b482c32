#include "server/rollout/rollout_status.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace affinity::server::rollout {

absl::StatusOr<affinity::v1::RolloutStatus> ReadRolloutStatus(const storage::ModelStore& store,
                                                              const std::string& dir) {
  affinity::v1::RolloutStatus out;
  out.set_store(dir);
  absl::StatusOr<affinity::v1::RolloutState> state = store.GetRollout();
  if (!state.ok()) return state.status();
  *out.mutable_state() = *std::move(state);
  absl::StatusOr<affinity::v1::ResolvedRollout> resolved = store.ResolvedRollout();
  if (resolved.ok()) {
    *out.mutable_resolved() = *std::move(resolved);
  } else if (absl::IsNotFound(resolved.status())) {
    out.set_unresolved_reason(std::string(resolved.status().message()));
  } else {
    return resolved.status();
  }
  return out;
}

absl::Status ValidateChangeInfo(const storage::RolloutChangeInfo& change) {
  if (change.by.size() > kMaxChangeByBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("by: ", change.by.size(), " bytes, expected at most ", kMaxChangeByBytes));
  }
  bool action_ok = !change.action.empty() && change.action.size() <= kMaxChangeActionBytes;
  for (char c : change.action) action_ok = action_ok && ((c >= 'a' && c <= 'z') || c == '-');
  if (!action_ok) {
    return absl::InvalidArgumentError(absl::StrCat("action: \"", change.action.substr(0, 40),
                                                   "\", expected 1..", kMaxChangeActionBytes,
                                                   " characters of [a-z-] such as \"promote\""));
  }
  if (change.reason.size() > kMaxChangeReasonBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reason: ", change.reason.size(), " bytes, expected at most ", kMaxChangeReasonBytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::ModelStore>> OpenRolloutWriter(const std::string& dir,
                                                                       int lock_wait_ms) {
  storage::ModelStoreOptions options;
  options.create_if_missing = false;  // a missing store: storage::NoModelStoreError
  options.lock_wait_ms = lock_wait_ms;
  // A rollout write reads a few keys: no need for the serving cache.
  options.block_cache_bytes = size_t{8} << 20;
  options.write_buffer_bytes = size_t{4} << 20;
  options.background_jobs = 1;
  absl::StatusOr<std::unique_ptr<storage::ModelStore>> store =
      storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite, options);
  if (absl::IsUnavailable(store.status())) {
    return absl::UnavailableError(absl::StrCat("busy, retry: ", store.status().message()));
  }
  return store;
}

absl::StatusOr<affinity::v1::RolloutStatus> WriteRollout(const std::string& dir,
                                                         uint64_t expected_revision,
                                                         const affinity::v1::RolloutState& next,
                                                         const storage::RolloutChangeInfo& change,
                                                         int lock_wait_ms) {
  if (absl::Status s = ValidateChangeInfo(change); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<storage::ModelStore>> store = OpenRolloutWriter(dir, lock_wait_ms);
  if (!store.ok()) return store.status();
  absl::StatusOr<affinity::v1::RolloutState> stored =
      (*store)->UpdateRollout(expected_revision, next, change);
  if (!stored.ok()) return stored.status();
  return ReadRolloutStatus(**store, dir);
}

}  // namespace affinity::server::rollout
