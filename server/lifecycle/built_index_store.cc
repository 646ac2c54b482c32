#include "server/lifecycle/built_index_store.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/hnsw_scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

absl::StatusOr<affinity::v1::IndexHeader> StoreBuiltIndex(const std::string& db,
                                                          const LoadedModel& model,
                                                          int lock_wait_ms) {
  const auto* hnsw = dynamic_cast<const HnswScorer*>(model.scorer.get());
  if (hnsw == nullptr || model.index_source != "built" || model.vectors_sha256.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model version ", model.version, " has no HNSW graph built here"));
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
  const std::string params = HnswScorer::IndexParams(hnsw->options());
  {
    auto reader = (*store)->OpenVersion(model.version);
    if (!reader.ok()) return reader.status();
    // With none stored at load, one there now is another server's; one
    // refused at load is replaced.
    auto stored = (*reader)->OpenIndex(HnswScorer::kIndexKind, params);
    if (model.index_note == kNoStoredIndex && stored.ok() &&
        (*stored)->header().vectors_sha256() == model.vectors_sha256 &&
        (*stored)->header().format() == kHnswFormat) {
      return absl::AlreadyExistsError(absl::StrCat("index ", HnswScorer::kIndexKind, "/", params,
                                                   " of version ", model.version,
                                                   " is stored already"));
    }
  }
  auto writer = (*store)->CreateIndexWriter(
      model.version,
      HnswIndexHeader(hnsw->options(), *model.items, model.vectors_sha256, model.index_seconds));
  if (!writer.ok()) return writer.status();
  return WriteHnswIndex(*hnsw, **writer);
}

}  // namespace affinity::server
