// LoadedModel: one model version made ready to serve (a "servable"):
// item factors in one aligned in-memory matrix, its scorers, the cached
// Y^T Y for fold-in, an id -> index map, and the store reader through which
// user records are read per request. Immutable once built; shared between
// requests through std::shared_ptr<const LoadedModel>, so a version stays
// alive until the last request holding it finishes.
#ifndef AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_
#define AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <Eigen/Core>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/fold_in.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

// LoadedModel::index_note when the version had no stored graph.
inline constexpr char kNoStoredIndex[] = "none stored";

struct LoadedModel {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
  std::unique_ptr<storage::ModelVersionReader> reader;
  std::shared_ptr<const ItemMatrix> items;
  // Unit-length item rows for cosine similarity (SimilarItems).
  std::shared_ptr<const ItemMatrix> normalized_items;
  // Ranks items for a user vector (the configured kind: exact or hnsw).
  std::unique_ptr<Scorer> scorer;
  // Ranks items by cosine with an item (always exact).
  std::unique_ptr<Scorer> similar_scorer;
  // Y^T Y, dims x dims.
  Eigen::MatrixXd gram;
  // Set for implicit models whose metadata describe the normal equations;
  // unset for explicit models (their vectors carry biases; see README).
  std::optional<FoldInParams> fold_in;
  bool explicit_model = false;
  double load_seconds = 0;
  // How the scorer's HNSW graph came to be: "" (exact scorer), "loaded"
  // from the store with the version, or "built" here; index_note says why
  // a stored one was not used ("none stored", or the check it failed).
  std::string index_source;
  std::string index_note;
  double index_seconds = 0;
  // SHA-256 of the item vectors (storage::ItemVectorsSha256); set with
  // an HNSW scorer.
  std::string vectors_sha256;

  std::optional<uint32_t> FindItem(absl::string_view item_id) const;
  const std::string& item_id(uint32_t index) const { return reader->item_ids()[index]; }

  absl::flat_hash_map<std::string, uint32_t> item_index;
};

// Reads every item vector of `reader`'s version into memory and builds the
// scorers; an HNSW graph stored with the version is loaded instead of built
// when it belongs to these vectors (server/scoring/hnsw_index_io.h), and
// built when there is none or it does not. Errors name the version and what was inconsistent; a model whose
// estimated size exceeds the memory bound (load_budget.h) is refused before
// anything is allocated, and running out of memory anyway is
// ResourceExhausted. Nothing throws.
absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(
    std::unique_ptr<storage::ModelVersionReader> reader, const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_
