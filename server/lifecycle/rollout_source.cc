#include "server/lifecycle/rollout_source.h"

namespace affinity::server {

absl::StatusOr<affinity::v1::ResolvedRollout> RolloutSource::Aspired() {
  if (absl::Status s = store_->Refresh(); !s.ok()) return s;
  return store_->ResolvedRollout();
}

}  // namespace affinity::server
