// LoadedModel: one model version made ready to serve (a "servable"):
// item factors in one aligned in-memory matrix (held once: cosine
// similarity divides by per-row norms at score time instead of keeping a
// normalised copy), its scorers, the cached Y^T Y for fold-in, and the store
// reader through which item ids (and their id -> index map) and user
// records are read. Immutable once built; shared between
// requests through std::shared_ptr<const LoadedModel>, so a version stays
// alive until the last request holding it finishes.
#ifndef AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_
#define AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/fold_in.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

// LoadedModel::index_note when the version had no stored index.
inline constexpr char kNoStoredIndex[] = "none stored";

struct LoadedModel {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
  std::unique_ptr<storage::ModelVersionReader> reader;
  std::shared_ptr<const ItemMatrix> items;
  // Per item, 1 / its norm (ItemMatrix::InverseNorms): items->row(i) times
  // inverse_norms[i] is item i's unit vector, for cosine similarity.
  std::shared_ptr<const std::vector<float>> inverse_norms;
  // Ranks items for a user vector (the configured kind: exact, int8 or hnsw).
  std::unique_ptr<Scorer> scorer;
  // Ranks items by cosine with a unit query (always exact; scales every row
  // by its inverse norm while scoring).
  std::unique_ptr<Scorer> similar_scorer;
  // Y^T Y, dims x dims.
  Eigen::MatrixXd gram;
  // Set for implicit models whose metadata describe the normal equations;
  // unset for explicit models (their vectors carry biases; see README).
  std::optional<FoldInParams> fold_in;
  bool explicit_model = false;
  double load_seconds = 0;
  // How the scorer's index (HNSW's graph, IVF's lists) came to be: ""
  // (exact and int8 scorers), "loaded" from the store with the version, or
  // "built" here; index_note says why a stored one was not used ("none
  // stored", or the check it failed).
  std::string index_source;
  std::string index_note;
  double index_seconds = 0;
  // SHA-256 of the item vectors (storage::ItemVectorsSha256); set with
  // an HNSW or IVF scorer.
  std::string vectors_sha256;

  std::optional<uint32_t> FindItem(absl::string_view item_id) const;
  const std::string& item_id(uint32_t index) const { return reader->item_ids()[index]; }
  // Item `index`'s unit vector (dims floats), equal bit for bit to the row
  // of a normalised copy of the matrix.
  std::vector<float> UnitRow(uint32_t index) const;
  // <unit row a, unit row b>, summed in dims order.
  float Cosine(uint32_t a, uint32_t b) const;
};

// Reads every item vector of `reader`'s version into memory and builds the
// scorers; an HNSW graph or IVF lists stored with the version are loaded
// instead of built when they belong to these vectors
// (server/scoring/hnsw_index_io.h, ivf_index_io.h), and built when there
// are none or they do not. Errors name the version and what was
// inconsistent; a model whose estimated size exceeds the memory bound
// (load_budget.h) is refused before anything is allocated, and running out
// of memory anyway is ResourceExhausted. Nothing throws.
absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(
    std::unique_ptr<storage::ModelVersionReader> reader, const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_LOADED_MODEL_H_
