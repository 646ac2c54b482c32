// ExactScorer: brute-force inner products over the whole item matrix with
// SIMD kernels and a bounded heap. Batches are scored block by block so each
// block of item rows is read from memory once for all queries. A query
// whose allowed set holds under 5% of the items scores only those rows
// (gather scan) instead of the whole matrix.
//
// With row scales, item i's score is <row_i * scale_i, query> (each element
// scaled, then multiplied): cosine rankings use the item matrix itself and
// per-row inverse norms, and equal the scores over a normalised copy bit
// for bit, without holding one.
#ifndef AFFINITY_SERVER_SCORING_EXACT_SCORER_H_
#define AFFINITY_SERVER_SCORING_EXACT_SCORER_H_

#include <memory>
#include <vector>

#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

class ExactScorer : public Scorer {
 public:
  explicit ExactScorer(std::shared_ptr<const ItemMatrix> items);
  // row_scales: one per row of `items` (shared, not copied).
  ExactScorer(std::shared_ptr<const ItemMatrix> items,
              std::shared_ptr<const std::vector<float>> row_scales);
  const char* name() const override { return "exact"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  std::vector<ScoringResult> TopKBatch(
      absl::Span<const ScoringQuery> queries) const override;
  bool BenefitsFromBatching() const override { return true; }
  // True when `query` takes the gather scan (its allowed set is small).
  bool UsesGather(const ScoringQuery& query) const;

 private:
  // Scores of n rows from `first` against one query / a transposed batch.
  void Dot(size_t first, size_t n, const float* query, float* out) const;
  void DotMulti(size_t first, size_t n, const float* transposed, size_t width,
                float* out) const;

  std::shared_ptr<const ItemMatrix> items_;
  std::shared_ptr<const std::vector<float>> row_scales_;  // may be null
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_EXACT_SCORER_H_
