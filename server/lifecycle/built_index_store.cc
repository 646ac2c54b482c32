#include "server/lifecycle/built_index_store.h"

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/ivf_index_io.h"
#include "server/scoring/ivf_scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

namespace {

// What StoreBuiltIndex writes for one kind of index: its header (kind,
// params, format, ...) and how its blob is written.
struct BuiltIndex {
  affinity::v1::IndexHeader header;
  std::function<absl::StatusOr<affinity::v1::IndexHeader>(storage::IndexWriter&)> write;
};

std::optional<BuiltIndex> BuiltIndexOf(const LoadedModel& model) {
  if (const auto* hnsw = dynamic_cast<const HnswScorer*>(model.scorer.get())) {
    return BuiltIndex{HnswIndexHeader(hnsw->options(), *model.items, model.vectors_sha256,
                                      model.index_seconds),
                      [hnsw](storage::IndexWriter& w) { return WriteHnswIndex(*hnsw, w); }};
  }
  if (const auto* ivf = dynamic_cast<const IvfScorer*>(model.scorer.get())) {
    return BuiltIndex{IvfIndexHeader(ivf->lists(), ivf->items(), ivf->centroids().dims(),
                                     model.vectors_sha256, model.index_seconds),
                      [ivf](storage::IndexWriter& w) {
                        return WriteIvfIndex(ivf->centroids(), ivf->Assignment(), w);
                      }};
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<affinity::v1::IndexHeader> StoreBuiltIndex(const std::string& db,
                                                          const LoadedModel& model,
                                                          int lock_wait_ms) {
  std::optional<BuiltIndex> built;
  if (model.index_source == "built" && !model.vectors_sha256.empty()) built = BuiltIndexOf(model);
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
