#include "server/lifecycle/version_loader.h"

namespace affinity::server {

absl::StatusOr<std::shared_ptr<const LoadedModel>> VersionLoader::Load(
    const storage::ModelStore& store, uint64_t version) const {
  auto reader = store.OpenVersion(version);
  if (!reader.ok()) return reader.status();
  auto model = LoadModel(*std::move(reader), options_);
  if (!model.ok()) return model.status();
  if (warm_up_) warm_up_(**model);
  return model;
}

}  // namespace affinity::server
