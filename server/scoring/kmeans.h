// Lloyd's k-means over the rows of an ItemMatrix (squared Euclidean
// distance): the coarse partition of the IVF scorer (ivf_scorer.h).
// Centroids are seeded by k-means++ and trained on a seeded random sample
// of the rows, then every row is assigned to its nearest centroid. The same rows, options and seed
// give the same centroids and assignment on every run and thread count.
// Stateless; thread-safe. Errors: InvalidArgument for zero clusters,
// Cancelled when options.cancel rises; nothing throws except std::bad_alloc.
#ifndef AFFINITY_SERVER_SCORING_KMEANS_H_
#define AFFINITY_SERVER_SCORING_KMEANS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_pool.h"

namespace affinity::server {

struct KMeansOptions {
  // Clusters wanted; more than the rows count as the rows (no rows: no
  // clusters).
  size_t clusters = 0;
  size_t iterations = 10;
  // Rows sampled per cluster to train on (the rest are only assigned).
  size_t sample_per_cluster = 64;
  uint64_t seed = 1;
  // Splits the assignment of the rows by range; null: the caller's thread.
  std::shared_ptr<const ScanPool> pool;
  const std::atomic<bool>* cancel = nullptr;  // may be null
};

struct KMeansResult {
  std::unique_ptr<ItemMatrix> centroids;  // clusters x dims
  std::vector<uint32_t> assignment;       // per row: its nearest centroid
};

absl::StatusOr<KMeansResult> TrainKMeans(const ItemMatrix& items, const KMeansOptions& options);

// For rows [0, items.rows()): the index of the nearest of `centroids`
// (ties to the lower index). Split over `pool` when given.
std::vector<uint32_t> AssignToNearest(const ItemMatrix& items, const ItemMatrix& centroids,
                                      const ScanPool* pool);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_KMEANS_H_
