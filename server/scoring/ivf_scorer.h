// IvfScorer: approximate maximum-inner-product search over an inverted
// file. At build, k-means (kmeans.h) splits the items into `lists`
// clusters; their rows are stored grouped by cluster in one int8 copy
// (Int8Matrix, each list starting on a kernel block). A query scores every
// centroid, scans the int8 rows of its `probes` best lists (by inner
// product with the centroid) for k * candidate_factor allowed, not excluded
// candidates, and re-ranks them exactly in float32 (rerank.h): returned
// scores are exact, and the order is ExactScorer's among what was found.
// When the probed lists hold fewer than that many allowed items, further
// lists are scanned in the same order until they do (or every list is), so
// the Scorer contract always holds; queries whose allowed set is small take
// the exact scorer's gather scan, as in ExactScorer, and are exact.
//
// The lists (centroids and each item's list, IvfLists) can be trained
// (TrainLists) or come from a version's stored index (ivf_index_io.h):
// FromLists builds the same scorer from either.
//
// items_scored counts the item rows scanned (not the centroids). Queries
// are answered one at a time on the caller's thread: each reads a few
// lists, not the catalog, so there is no pass to share.
// Immutable after construction; thread-safe.
#ifndef AFFINITY_SERVER_SCORING_IVF_SCORER_H_
#define AFFINITY_SERVER_SCORING_IVF_SCORER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/int8_matrix.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

// What k-means found: `centroids` (lists x dims) and, per item, the index
// of its list.
struct IvfLists {
  std::unique_ptr<const ItemMatrix> centroids;
  std::vector<uint32_t> assignment;
};

class IvfScorer : public Scorer {
 public:
  // The kind of its stored index, and the build parameters that shape
  // `lists` lists (their count and k-means' settings) in the stored form,
  // e.g. "lists=1000,iterations=10,sample=64,seed=1"; probes are a search
  // setting and not part of it.
  static constexpr char kIndexKind[] = "ivf";
  static std::string IndexParams(size_t lists);
  // The lists k-means makes for `items` items with `options`.
  static size_t ListsFor(const ScorerOptions& options, size_t items);

  // Lists and probes when options leave them 0: about sqrt(items) lists,
  // and 1 / kDefaultProbeDivisor of them probed (at least 1).
  static size_t DefaultLists(size_t items);
  static constexpr size_t kDefaultProbeDivisor = 32;
  // Rows a query scans at least per candidate it keeps (k *
  // candidate_factor), divided by the share of the items its filter allows.
  static constexpr size_t kRowsPerCandidate = 16;

  // Trains the lists on `items` on the calling thread alone (options:
  // ivf_lists, ivf_probes, int8_candidate_factor, cancel; scan_pool serves
  // the exact gather scan only).
  // Cancelled when options.cancel rises; ResourceExhausted when memory
  // runs out; nothing throws.
  static absl::StatusOr<std::unique_ptr<IvfScorer>> Build(std::shared_ptr<const ItemMatrix> items,
                                                          const ScorerOptions& options,
                                                          Int8Isa isa = BestInt8Isa());
  // Build's first step alone: k-means over `items` (same errors).
  static absl::StatusOr<IvfLists> TrainLists(const ItemMatrix& items,
                                             const ScorerOptions& options);
  // Build's second step: the scorer over `items` with these lists.
  // InvalidArgument when they do not fit the items (an assignment per item,
  // each below the centroid count; centroids of the items' dims);
  // ResourceExhausted when memory runs out.
  static absl::StatusOr<std::unique_ptr<IvfScorer>> FromLists(
      std::shared_ptr<const ItemMatrix> items, IvfLists lists, const ScorerOptions& options,
      Int8Isa isa = BestInt8Isa());

  const char* name() const override { return "ivf"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  bool HasRerank() const override { return true; }

  size_t lists() const { return centroids_->rows(); }
  size_t probes() const { return probes_; }
  // Items in list l (tests and benchmarks).
  size_t ListSize(size_t l) const;
  // The lists, as FromLists takes them (to store them with the version).
  const ItemMatrix& centroids() const { return *centroids_; }
  std::vector<uint32_t> Assignment() const;

 private:
  IvfScorer(std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options, Int8Isa isa);

  std::shared_ptr<const ItemMatrix> items_;
  std::unique_ptr<const ItemMatrix> centroids_;
  // Rows [list_begin_[l], list_begin_[l + 1]) of int8_ are list l's, each
  // begin a multiple of kInt8BlockRows; order_[row] is the row's item
  // (Int8Matrix::kNoRow for the padding that ends a list on a block).
  std::vector<uint32_t> list_begin_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> list_sizes_;  // items per list (padding excluded)
  std::unique_ptr<const Int8Matrix> int8_;
  size_t candidate_factor_;
  size_t probes_;
  Int8Isa isa_;
  ExactScorer exact_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_IVF_SCORER_H_
