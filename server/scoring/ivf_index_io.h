// The IVF lists of a model version kept in the model store
// (storage/model_store.h, IndexWriter/IndexReader): trained once, by the
// trainer at publish or by the first server that had to train them, and
// loaded by every later load instead of running k-means again. Stored lists
// are used only when they were trained on exactly the version's item
// vectors (the header's item count, dims and vectors SHA-256, then the
// blob's own SHA-256) with the configured list count and k-means settings
// (IvfScorer::IndexParams), and every item's list exists.
//
// Blob (kIvfFormat): the centroids, lists x dims float32, row after row,
// then one uint32 per item (its list), all little-endian.
// Thread-compatible; nothing throws.
#ifndef AFFINITY_SERVER_SCORING_IVF_INDEX_IO_H_
#define AFFINITY_SERVER_SCORING_IVF_INDEX_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/ivf_scorer.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity::server {

inline constexpr char kIvfFormat[] = "affinity-ivf-1";

// The header of `lists` lists of `items` items x `dims` dims (kind, params,
// format, items, dims, vectors_sha256 = storage::ItemVectorsSha256 of the
// items, build_seconds, created_at_unix now).
affinity::v1::IndexHeader IvfIndexHeader(size_t lists, size_t items, size_t dims,
                                         std::string vectors_sha256, double build_seconds);

// Saves the lists (IvfLists, or an IvfScorer's centroids() and
// Assignment()) through `writer` and commits them; the stored header.
absl::StatusOr<affinity::v1::IndexHeader> WriteIvfIndex(const ItemMatrix& centroids,
                                                        absl::Span<const uint32_t> assignment,
                                                        storage::IndexWriter& writer);

// The scorer over `items` (whose SHA-256 is vectors_sha256) with the lists
// stored with `reader`'s version for `options`. NotFound when none are
// stored; FailedPrecondition naming the difference when they were trained
// on other vectors or stored in another format; DataLoss when the blob is
// damaged (its size, its SHA-256, or an item in a list that does not
// exist); ResourceExhausted when memory runs out.
absl::StatusOr<std::unique_ptr<IvfScorer>> LoadIvfIndex(
    const storage::ModelVersionReader& reader, std::shared_ptr<const ItemMatrix> items,
    const std::string& vectors_sha256, const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_IVF_INDEX_IO_H_
