// ExactScorer: brute-force inner products over the whole item matrix with
// SIMD kernels and a bounded heap. Batches are scored block by block so each
// block of item rows is read from memory once for all queries. A query
// whose allowed set holds under 5% of the items scores only those rows
// (gather scan) instead of the whole matrix.
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
  const char* name() const override { return "exact"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  std::vector<ScoringResult> TopKBatch(
      absl::Span<const ScoringQuery> queries) const override;
  bool BenefitsFromBatching() const override { return true; }
  // True when `query` takes the gather scan (its allowed set is small).
  bool UsesGather(const ScoringQuery& query) const;

 private:
  std::shared_ptr<const ItemMatrix> items_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_EXACT_SCORER_H_
