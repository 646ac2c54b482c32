// VersionLoader: makes one model version ready to serve before it is
// swapped in (TensorFlow Serving's loader): reads its item vectors, builds
// its scorers and fold-in cache (LoadModel), then runs the warm-up hook
// (e.g. preparing the business rules for it) so that the first request on
// it pays for nothing. Thread-compatible; Load may run while requests are
// served from other versions.
#ifndef AFFINITY_SERVER_LIFECYCLE_VERSION_LOADER_H_
#define AFFINITY_SERVER_LIFECYCLE_VERSION_LOADER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "server/lifecycle/loaded_model.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

class VersionLoader {
 public:
  using WarmUp = std::function<void(const LoadedModel&)>;

  explicit VersionLoader(ScorerOptions options) : options_(std::move(options)) {}

  // Called with every model after it is loaded and before it serves.
  void SetWarmUp(WarmUp warm_up) { warm_up_ = std::move(warm_up); }

  // NotFound for a version that is not published; Cancelled when the
  // options' cancel flag is raised; otherwise the store's and LoadModel's
  // errors (DataLoss for metadata that disagrees with the stored items, a
  // load that cannot fit in memory is ResourceExhausted), naming the
  // version. An exception from any step (the warm-up hook included) becomes
  // an error naming the version: Load never throws.
  absl::StatusOr<std::shared_ptr<const LoadedModel>> Load(const storage::ModelStore& store,
                                                          uint64_t version) const;

  ScorerOptions& options() { return options_; }

 private:
  ScorerOptions options_;
  WarmUp warm_up_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_VERSION_LOADER_H_
