// RolloutSource: watches the model store for what the servers should serve
// (TensorFlow Serving's source of aspired versions): the rollout state
// applied to the published versions. Every server following one store
// resolves the same state the same way (storage/rollout_resolver.h), so
// they route every user alike. Not thread-safe: one poller calls it.
#ifndef AFFINITY_SERVER_LIFECYCLE_ROLLOUT_SOURCE_H_
#define AFFINITY_SERVER_LIFECYCLE_ROLLOUT_SOURCE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "affinity/v1/rollout.pb.h"
#include "storage/model_store.h"

namespace affinity::server {

class RolloutSource {
 public:
  // `store` is a follower of the store the servers serve.
  explicit RolloutSource(std::unique_ptr<storage::ModelStore> store)
      : store_(std::move(store)) {}

  // Catches up with the store and resolves its rollout. NotFound while no
  // eligible version is published.
  absl::StatusOr<affinity::v1::ResolvedRollout> Aspired();

  const storage::ModelStore& store() const { return *store_; }

 private:
  std::unique_ptr<storage::ModelStore> store_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_ROLLOUT_SOURCE_H_
