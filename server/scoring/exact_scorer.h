// ExactScorer: brute-force inner products over the whole item matrix with
// SIMD kernels and a bounded top-k selection. Batches are scored block by block so each
// block of item rows is read from memory once for all queries; a lone query
// is scored with DotRowsLanes, whose arithmetic is a DotRowsMulti lane's, so
// its scores are the same to the last bit whether it was batched or not. A
// query whose allowed set holds under 5% of the items scores only those rows
// (gather scan, DotRows) instead of the whole matrix, alone or in a batch.
//
// With row scales, item i's score is <row_i * scale_i, query> (each element
// scaled, then multiplied): cosine rankings use the item matrix itself and
// per-row inverse norms, and equal the scores over a normalised copy bit
// for bit (alone, batched or split), without holding one.
//
// With a ScanPool, a scan of a large matrix is split into contiguous item
// ranges (at least min_rows_per_part rows each, at most one per thread of
// the pool) scanned at once, each keeping every query's own top k, merged at
// the end. Every item's score is computed by the same kernel whatever the
// split, and ties rank the lower index first, so the items and scores
// returned are those of the single-threaded scan. (not_allowed and
// excluded_hits count per range and may be higher with a split: a range's
// selection fills from its own first rows.)
#ifndef AFFINITY_SERVER_SCORING_EXACT_SCORER_H_
#define AFFINITY_SERVER_SCORING_EXACT_SCORER_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_pool.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

struct ExactScorerOptions {
  // Splits scans across its threads; null: every scan on the caller's thread.
  std::shared_ptr<const ScanPool> pool;
  // Smallest item range worth a thread of its own.
  size_t min_rows_per_part = 16384;
  // One per row of the matrix (shared, not copied): scores are
  // <row_i * row_scales[i], query>; null: plain inner products.
  std::shared_ptr<const std::vector<float>> row_scales;
};

class ExactScorer : public Scorer {
 public:
  explicit ExactScorer(std::shared_ptr<const ItemMatrix> items,
                       ExactScorerOptions options = {});
  const char* name() const override { return "exact"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  std::vector<ScoringResult> TopKBatch(
      absl::Span<const ScoringQuery> queries) const override;
  bool ScansEveryAllowedRow() const override { return true; }
  bool BenefitsFromBatching() const override { return true; }
  // True when `query` takes the gather scan (its allowed set is small).
  bool UsesGather(const ScoringQuery& query) const;
  // True when queries restricted to `allowed` take the gather scan.
  bool UsesGather(const ItemBitmap& allowed) const;

  // Item ranges a full scan is split into (1: not split).
  size_t Parts() const;

 private:
  // [begin, end) of range `part` of Parts() ranges.
  void Range(size_t part, size_t parts, size_t* begin, size_t* end) const;
  // Scans rows [begin, end) for the queries of `transposed` (width lanes,
  // selectors.size() queries) into `selectors`; a lone query (padded: `lone`) with
  // DotRowsLanes, which gives the same scores.
  void ScanRangeMulti(const float* lone, const float* transposed, size_t width, size_t begin,
                      size_t end, std::vector<TopKSelector>* selectors) const;
  // Scores of n rows from `first`, times their row scales when set: against
  // one query as DotRows (gather) / as DotRowsLanes, or a transposed batch.
  void Dot(size_t first, size_t n, const float* query, float* out) const;
  void DotLanes(size_t first, size_t n, const float* query, float* out) const;
  void DotMulti(size_t first, size_t n, const float* transposed, size_t width,
                float* out) const;

  std::shared_ptr<const ItemMatrix> items_;
  ExactScorerOptions options_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_EXACT_SCORER_H_
