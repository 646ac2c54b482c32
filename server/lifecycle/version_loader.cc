#include "server/lifecycle/version_loader.h"

#include <exception>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {

absl::StatusOr<std::shared_ptr<const LoadedModel>> VersionLoader::Load(
    const storage::ModelStore& store, uint64_t version) const {
  // Whatever a step throws fails this version's load, never the server.
  try {
    auto reader = store.OpenVersion(version);
    if (!reader.ok()) return reader.status();
    auto model = LoadModel(*std::move(reader), options_);
    if (!model.ok()) return model.status();
    if (warm_up_) warm_up_(**model);
    return model;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("model version ", version, ": out of memory while loading"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("model version ", version, ": loading failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("model version ", version, ": loading failed: unknown exception"));
  }
}

}  // namespace affinity::server
