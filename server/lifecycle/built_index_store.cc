#include "server/lifecycle/built_index_store.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/index_to_store.h"
#include "storage/model_store.h"

namespace affinity::server {

absl::StatusOr<affinity::v1::IndexHeader> StoreBuiltIndex(const std::string& db,
                                                          const LoadedModel& model,
                                                          int lock_wait_ms) {
  std::optional<IndexToStore> built;
  if (model.index_source == "built" && !model.vectors_sha256.empty()) {
    built = IndexToStoreOf(*model.scorer, *model.items, model.vectors_sha256, model.index_seconds);
  }
  if (!built.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model version ", model.version, " has no index built here"));
  }
  storage::ModelStoreOptions options;
  options.create_if_missing = false;
  options.lock_wait_ms = lock_wait_ms;
  options.block_cache_bytes = size_t{8} << 20;
  options.background_jobs = 1;
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite, options);
  if (absl::IsUnavailable(store.status())) {
    return absl::UnavailableError(absl::StrCat("busy: ", store.status().message()));
  }
  if (!store.ok()) return store.status();
  {
    auto reader = (*store)->OpenVersion(model.version);
    if (!reader.ok()) return reader.status();
    // With none stored at load, one there now is another server's; one
    // refused at load is replaced.
    const affinity::v1::IndexHeader& header = built->header;
    auto stored = (*reader)->OpenIndex(header.kind(), header.params());
    if (model.index_note == kNoStoredIndex && stored.ok() &&
        (*stored)->header().vectors_sha256() == model.vectors_sha256 &&
        (*stored)->header().format() == header.format()) {
      return absl::AlreadyExistsError(absl::StrCat("index ", header.kind(), "/", header.params(),
                                                   " of version ", model.version,
                                                   " is stored already"));
    }
  }
  auto writer = (*store)->CreateIndexWriter(model.version, built->header);
  if (!writer.ok()) return writer.status();
  return built->write(**writer);
}

}  // namespace affinity::server
