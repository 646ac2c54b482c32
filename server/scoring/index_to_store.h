// An index ready to be stored with its model version (storage/model_store.h,
// IndexWriter): the header it is stored under and how its blob is written.
// The one place that knows, for each kind that keeps an index with the
// version (HNSW's graph: hnsw_index_io.h; IVF's lists: ivf_index_io.h),
// which header and which writer go together. Used by the trainer at publish,
// by synthetic_store, and by a server storing an index it had to build.
// Thread-compatible; nothing throws.
#ifndef AFFINITY_SERVER_SCORING_INDEX_TO_STORE_H_
#define AFFINITY_SERVER_SCORING_INDEX_TO_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

struct IndexToStore {
  affinity::v1::IndexHeader header;
  // Writes the blob through a writer created with `header` and commits it;
  // the stored header. Owns (BuildIndexToStore) or points to
  // (IndexToStoreOf) what it writes.
  std::function<absl::StatusOr<affinity::v1::IndexHeader>(storage::IndexWriter&)> write;
};

// Builds the index of options.kind over `items`, whose SHA-256
// (storage::ItemVectorsSha256) is vectors_sha256: kHnsw the graph
// (HnswScorer::Build with options.build_threads), kIvf the lists
// (IvfScorer::TrainLists). header.build_seconds is the build's time.
// InvalidArgument for a kind that keeps no index; the build's errors.
absl::StatusOr<IndexToStore> BuildIndexToStore(std::shared_ptr<const ItemMatrix> items,
                                               const std::string& vectors_sha256,
                                               const ScorerOptions& options);

// The index `scorer` already holds (an HnswScorer's graph, an IvfScorer's
// lists) over `items`; nullopt for a scorer that keeps none. `scorer` must
// outlive the returned write.
std::optional<IndexToStore> IndexToStoreOf(const Scorer& scorer, const ItemMatrix& items,
                                           const std::string& vectors_sha256,
                                           double build_seconds);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INDEX_TO_STORE_H_
