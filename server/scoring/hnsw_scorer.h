// HnswScorer: approximate maximum-inner-product search with hnswlib's HNSW
// graph (inner-product space). Exclusions are honoured by asking the graph
// for k + |excluded| neighbours and skipping excluded ones; when that still
// leaves fewer than k (or the exclusion list is very long) the query is
// answered by an exact scan instead, so the Scorer contract always holds.
#ifndef AFFINITY_SERVER_SCORING_HNSW_SCORER_H_
#define AFFINITY_SERVER_SCORING_HNSW_SCORER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace affinity::server {

class HnswScorer : public Scorer {
 public:
  // Builds the graph over every row of `items` with options.build_threads.
  // ResourceExhausted when the graph cannot be allocated, Internal when
  // hnswlib fails while adding a point, Cancelled when options.cancel rises;
  // nothing throws.
  static absl::StatusOr<std::unique_ptr<HnswScorer>> Build(
      std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options);
  ~HnswScorer() override;

  const char* name() const override { return "hnsw"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  // Search breadth for later queries. Not safe while queries are running.
  void SetEf(size_t ef);

 private:
  HnswScorer(std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options);

  std::shared_ptr<const ItemMatrix> items_;
  ScorerOptions options_;
  ExactScorer exact_;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_HNSW_SCORER_H_
