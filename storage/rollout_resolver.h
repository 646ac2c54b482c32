// Rollout rules that do not depend on RocksDB: what a valid RolloutState
// is, and which concrete versions it puts in which arm given the published
// versions. Every server, the CLI and the model store apply the same
// functions, so they agree on the arms of a store. Pure functions,
// thread-safe.
#ifndef AFFINITY_STORAGE_ROLLOUT_RESOLVER_H_
#define AFFINITY_STORAGE_ROLLOUT_RESOLVER_H_

#include <cstdint>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "affinity/v1/rollout.pb.h"

namespace affinity::storage {

inline constexpr char kControlArmName[] = "control";
inline constexpr char kCanaryArmName[] = "canary";
inline constexpr int32_t kTotalBasisPoints = 10000;

struct VersionInfo {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
};

// A version may take traffic unless the nightly gate refused it.
bool IsEligible(const affinity::v1::ModelMetadata& metadata);

// The state on its own: arm names ([a-z0-9_-], 1..32 characters, unique,
// not "control" or "canary"), fractions (each 1..10000, at most 10000 in
// all, counting the canary's share under the CANARY policy), shadow and
// policy values, salt (at most 64 bytes). InvalidArgument names the field.
absl::Status ValidateRolloutState(const affinity::v1::RolloutState& state);

// Applies `state` to the published `versions` (ascending):
//  - control: control_version when set, else the newest eligible version;
//  - the state's arms, in order, skipping (with a warning) an arm whose
//    version is no longer published or not eligible;
//  - under the CANARY policy, the newest eligible version, when it is newer
//    than control and than canary_after_version and in no arm, as the arm
//    "canary";
//  - the shadow, when its version is published.
// arms[0] is control, with the basis points the others leave. NotFound
// when no eligible version is published (nothing can serve) or the pinned
// control version is not published.
absl::StatusOr<affinity::v1::ResolvedRollout> ResolveRollout(
    const affinity::v1::RolloutState& state, const std::vector<VersionInfo>& versions);

// Every version the state or its resolution refers to: control (pinned and
// resolved), the arms, the shadow and the previous control. Such versions
// are never deleted.
std::set<uint64_t> ReferencedVersions(const affinity::v1::RolloutState& state,
                                      const affinity::v1::ResolvedRollout* resolved);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_ROLLOUT_RESOLVER_H_
