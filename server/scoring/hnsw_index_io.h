// The HNSW graph of a model version kept in the model store
// (storage/model_store.h, IndexWriter/IndexReader): built once, by the
// trainer at publish or by the first server that had to build it, and
// loaded by every later load instead of being built again. A stored graph
// is used only when it was built from exactly the version's item vectors
// (its header's item count, dims and vectors SHA-256, then the blob's own
// SHA-256 and ReadHnsw's checks of every stored vector) with the
// configured M and ef_construction. Thread-compatible; nothing throws.
#ifndef AFFINITY_SERVER_SCORING_HNSW_INDEX_IO_H_
#define AFFINITY_SERVER_SCORING_HNSW_INDEX_IO_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

// The header of `items`' graph built with `options` (kind, params, format,
// items, dims, vectors_sha256 = storage::ItemVectorsSha256 of the items,
// build_seconds, created_at_unix now).
affinity::v1::IndexHeader HnswIndexHeader(const ScorerOptions& options, const ItemMatrix& items,
                                          std::string vectors_sha256, double build_seconds);

// Saves `scorer`'s graph through `writer` and commits it; the stored header.
absl::StatusOr<affinity::v1::IndexHeader> WriteHnswIndex(const HnswScorer& scorer,
                                                         storage::IndexWriter& writer);

// The stored graph of `reader`'s version for options' M and
// ef_construction, when it belongs to `items` (whose SHA-256 is
// vectors_sha256). NotFound when none is stored; FailedPrecondition naming
// the difference when it was built from other vectors or parameters;
// DataLoss when it is damaged; Cancelled when options.cancel rises.
absl::StatusOr<std::unique_ptr<HnswScorer>> LoadHnswIndex(
    const storage::ModelVersionReader& reader, std::shared_ptr<const ItemMatrix> items,
    const std::string& vectors_sha256, const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_HNSW_INDEX_IO_H_
