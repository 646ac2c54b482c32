// Int8Scorer: a two-stage scan. Stage 1 scores every item with an int8 copy
// of the item matrix (Int8Matrix: per-row scales, a quarter of the float
// bytes, integer SIMD kernels chosen at run time) and keeps the
// k * candidate_factor best allowed, not excluded items. Stage 2 re-ranks
// those candidates exactly in float32 from the float matrix with the exact
// scorer's own kernels, so the returned order and scores equal
// ExactScorer's (TopK's for TopK, TopKBatch's for TopKBatch) bit for bit
// whenever the true top k are among the candidates; an item the int8 stage
// ranks below the candidates is missed (candidate-stage recall:
// scorer_bench's BM_Int8CandidateRecall). Queries whose allowed set is small
// take the exact scorer's gather scan, as in ExactScorer, so they are exact.
//
// not_allowed / excluded_hits count what the candidate stage skipped (about
// candidate_factor times what ExactScorer counts); items_scored is every
// row. Immutable after construction; thread-safe. The constructor throws
// std::bad_alloc when the int8 copy cannot be allocated.
#ifndef AFFINITY_SERVER_SCORING_INT8_SCORER_H_
#define AFFINITY_SERVER_SCORING_INT8_SCORER_H_

#include <memory>
#include <vector>

#include "server/scoring/exact_scorer.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/int8_matrix.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

class Int8Scorer : public Scorer {
 public:
  // candidate_factor 0 counts as 1. `isa` must be supported
  // (Int8IsaSupported); tests pick each path, the server the best one.
  Int8Scorer(std::shared_ptr<const ItemMatrix> items, size_t candidate_factor,
             Int8Isa isa = BestInt8Isa());

  const char* name() const override { return "int8"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  // One pass over the int8 matrix for up to kInt8MaxQueries queries at a
  // time, then each query's candidates re-ranked.
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery> queries) const override;
  bool BenefitsFromBatching() const override { return true; }

  // Stage 1 alone: the candidates of `query`, best first by int8 score
  // (benchmarks and tests measure their recall).
  std::vector<ScoredIndex> Candidates(const ScoringQuery& query) const;
  size_t CandidatesFor(size_t k) const;
  const Int8Matrix& int8_matrix() const { return *int8_; }
  Int8Isa isa() const { return isa_; }

 private:
  // Candidate heaps of `queries` (at most kInt8MaxQueries), filled by one
  // pass over the int8 matrix.
  std::vector<TopKHeap> Scan(absl::Span<const ScoringQuery> queries) const;

  std::shared_ptr<const ItemMatrix> items_;
  std::unique_ptr<const Int8Matrix> int8_;
  size_t candidate_factor_;
  Int8Isa isa_;
  ExactScorer exact_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INT8_SCORER_H_
