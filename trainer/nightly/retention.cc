#include "trainer/nightly/retention.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace affinity {

absl::StatusOr<RetentionResult> ApplyRetention(storage::ModelStore& store, int keep_newest) {
  if (keep_newest < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--keep_versions: ", keep_newest, ", expected at least 1"));
  }
  absl::StatusOr<std::vector<storage::VersionInfo>> versions = store.ListVersions();
  if (!versions.ok()) return versions.status();
  absl::StatusOr<affinity::v1::RolloutState> state = store.GetRollout();
  if (!state.ok()) return state.status();
  absl::StatusOr<affinity::v1::ResolvedRollout> resolved =
      storage::ResolveRollout(*state, *versions);
  const std::set<uint64_t> referenced =
      storage::ReferencedVersions(*state, resolved.ok() ? &*resolved : nullptr);
  RetentionResult result;
  const int64_t count = static_cast<int64_t>(versions->size());
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t version = (*versions)[i].version;
    const bool newest = i >= count - keep_newest;
    if (newest || referenced.count(version)) {
      result.kept.push_back(version);
      continue;
    }
    if (absl::Status s = store.DeleteVersion(version); !s.ok()) return s;
    result.deleted.push_back(version);
  }
  return result;
}

}  // namespace affinity
