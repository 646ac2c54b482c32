// Int8Scorer: a two-stage scan. Stage 1 scores every item with an int8 copy
// of the item matrix (Int8Matrix: per-row scales, a quarter of the float
// bytes, integer SIMD kernels chosen at run time) and keeps the
// k * candidate_factor best allowed, not excluded items. Stage 2 re-ranks
// those candidates exactly in float32 from the float matrix with the exact
// scorer's own arithmetic (DotRowsLanes, a DotRowsMulti lane's), so the
// returned order and scores equal ExactScorer's, alone or batched, bit for
// bit whenever the true top k are among the candidates; an item the int8 stage
// ranks below the candidates is missed (candidate-stage recall:
// scorer_bench's BM_Int8CandidateRecall). Queries whose allowed set is small
// take the exact scorer's gather scan, as in ExactScorer, so they are exact.
// With a ScanPool, the int8 pass is split into parts scanned at once, each
// claiming a few chunks of rows at a time while any are left (so a part
// whose thread is held up does not hold up the pass) and keeping every
// query's candidates among them; the parts are merged (ties to the lower
// index): the candidates, hence the answers, are those of the unsplit scan.
//
// Sampled threshold: on a large matrix the pass first scans every
// kInt8SampleStride-th chunk, keeping each query's few best (enough that
// about kInt8SampleMargin times its candidates score above the worst of
// them), and starts the rest of the pass at that score instead of at -inf:
// most rows then fall below the threshold at once instead of entering the
// selection while it climbs. Only rows below the threshold are dropped, so
// whenever the pass still holds the query's full candidate count the
// candidates are those of the unsampled pass; a query left short (a
// sample unlike the rest of the catalog, or too few allowed items) is
// scanned again without it (counted by sample_misses()).
//
// Allowed copies: PrepareAllowed gives a rule set's bitmap its own int8 copy
// of just the allowed rows; queries naming it scan that copy instead (a
// batch is scanned in groups, one per copy and one for the full matrix).
// The copies of one set of rules share a budget (AllowedScanBudget: by
// default half of the full int8 copy's bytes).
// Results carry the time of their call's re-rank stage (rerank_seconds).
//
// not_allowed / excluded_hits count what the candidate stage skipped (about
// candidate_factor times what ExactScorer counts); items_scored is every
// row, twice for a query scanned again. Immutable after construction;
// thread-safe. The constructor throws std::bad_alloc when the int8 copy
// cannot be allocated.
#ifndef AFFINITY_SERVER_SCORING_INT8_SCORER_H_
#define AFFINITY_SERVER_SCORING_INT8_SCORER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "server/scoring/exact_scorer.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/int8_matrix.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_pool.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

// Every kInt8SampleStride-th chunk of a pass is its sample; a pass over
// fewer than kInt8SampleMinChunks chunks takes none.
constexpr size_t kInt8SampleStride = 16;
constexpr size_t kInt8SampleMinChunks = 64;
// The sampled threshold aims at about this many times a query's candidates
// above it over the whole matrix, and is never above the sample's
// kInt8SampleMinRank-th best. The count above the sample's r-th best is
// about kInt8SampleStride times a Gamma(r) variable, so a query needing c
// candidates is left short with probability about P(Gamma(r) < c / stride):
// for c = 80 (the homepage rules' first fetch) that is 3% with r = 10
// (margin 2), 0.02% with r = 15 (margin 3); for c <= 40, r = 12 gives at
// most 0.001%. A query left short is scanned a second time, whole.
constexpr size_t kInt8SampleMargin = 3;
constexpr size_t kInt8SampleMinRank = 12;
// The parts of a split pass claim this many chunks at a time (about 0.2 MB
// of a 64-dim copy): few enough claims to cost nothing, small enough that a
// part whose thread is held up leaves most of its share to the others.
constexpr size_t kInt8ClaimChunks = 4;

class Int8Scorer;

// Int8Scorer::PrepareAllowed's result: the int8 rows of the allowed items
// alone, in item order, for the one bitmap it was built from. `scorer` and
// `allowed` identify what it belongs to (compared, never dereferenced
// through scorer()); immutable, thread-safe to read.
class Int8AllowedScan : public AllowedScan {
 public:
  Int8AllowedScan(const Int8Scorer* scorer, const ItemBitmap* allowed, const ItemMatrix& items);
  const Int8Scorer* scorer() const { return scorer_; }
  const ItemBitmap* allowed() const { return allowed_; }
  const Int8Matrix& matrix() const { return matrix_; }
  // The item of each row of matrix().
  const std::vector<uint32_t>& items() const { return items_; }
  size_t bytes() const override;
  // What a copy of `rows` rows of `dims` dims holds, before it is made.
  static size_t BytesFor(size_t rows, size_t dims);

 private:
  const Int8Scorer* scorer_;
  const ItemBitmap* allowed_;
  std::vector<uint32_t> items_;
  Int8Matrix matrix_;
};

class Int8Scorer : public Scorer {
 public:
  // An allowed set gets its own compact copy (PrepareAllowed) when it holds
  // at most this share of the items (and enough not to take the gather scan).
  static constexpr double kAllowedScanMaxShare = 0.5;

  // Smallest item range of the int8 pass worth a thread of its own (the
  // bytes of ExactScorerOptions' default range of float rows at 64 dims).
  static constexpr size_t kDefaultMinRowsPerPart = 65536;

  // candidate_factor 0 counts as 1. `isa` must be supported
  // (Int8IsaSupported); tests pick each path, the server the best one.
  // `pool` (may be null: no split) splits the int8 pass into ranges of at
  // least min_rows_per_part rows.
  // `sample_first` false: no sampled threshold (benchmarks and tests compare).
  // `allowed_scan_budget`: AllowedScanBudget(); nullopt: the default.
  Int8Scorer(std::shared_ptr<const ItemMatrix> items, size_t candidate_factor,
             Int8Isa isa = BestInt8Isa(), std::shared_ptr<const ScanPool> pool = nullptr,
             size_t min_rows_per_part = kDefaultMinRowsPerPart, bool sample_first = true,
             std::optional<size_t> allowed_scan_budget = std::nullopt);

  // Half of the bytes of the full int8 copy of `rows` x `dims`: the copies of
  // rule sets keeping up to half of the items, or several smaller ones.
  static size_t DefaultAllowedScanBudget(size_t rows, size_t dims);

  const char* name() const override { return "int8"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  // One pass over the int8 matrix for up to kInt8MaxQueries queries at a
  // time, then each query's candidates re-ranked.
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery> queries) const override;
  bool BenefitsFromBatching() const override { return true; }
  bool HasRerank() const override { return true; }
  bool ScansEveryAllowedRow() const override { return true; }
  // A compact int8 copy of the allowed items' rows when they are at most
  // kAllowedScanMaxShare of the catalog and the exact gather scan would not
  // take their queries; null otherwise. A query naming it (with the same
  // `allowed`) scans only those rows: the same candidates and answers as the
  // full pass, for a fraction of its reads. items_scored then counts those
  // rows, and not_allowed counts nothing (no other row is read). The copy
  // refers to `allowed`, which must outlive it. Null too when the copy
  // would hold more than `max_bytes` or cannot be allocated.
  std::shared_ptr<const AllowedScan> PrepareAllowed(const ItemBitmap& allowed,
                                                    size_t max_bytes) const override;
  size_t AllowedScanBudget() const override { return allowed_scan_budget_; }

  // Stage 1 alone: the candidates of `query`, best first by int8 score
  // (benchmarks and tests measure their recall).
  std::vector<ScoredIndex> Candidates(const ScoringQuery& query) const;
  size_t CandidatesFor(size_t k) const;
  const Int8Matrix& int8_matrix() const { return *int8_; }
  Int8Isa isa() const { return isa_; }
  // Item ranges the int8 pass over `rows` rows is split into (1: not split).
  size_t Parts(size_t rows) const;
  size_t Parts() const { return Parts(items_->rows()); }
  // Queries scanned again because the sampled threshold left them short.
  uint64_t sample_misses() const { return sample_misses_.load(std::memory_order_relaxed); }

 private:
  // One query's candidates, best first, and what its selection skipped.
  struct Stage1 {
    std::vector<ScoredIndex> candidates;
    uint64_t not_allowed = 0;
    uint64_t excluded_hits = 0;
    bool scanned_again = false;  // the sampled threshold left it short
  };
  // The candidates of `queries` (at most kInt8MaxQueries), from one pass
  // over the int8 matrix or, with `allowed_scan` (every query's), over its
  // copy (split over the pool), the threshold sampled first when
  // `sample_first` and the matrix is large enough.
  std::vector<Stage1> Scan(absl::Span<const ScoringQuery> queries, bool sample_first,
                           const Int8AllowedScan* allowed_scan) const;
  // The query's allowed_scan when it is this scorer's, for its `allowed`.
  const Int8AllowedScan* OwnAllowedScan(const ScoringQuery& query) const;

  std::shared_ptr<const ItemMatrix> items_;
  std::unique_ptr<const Int8Matrix> int8_;
  size_t candidate_factor_;
  Int8Isa isa_;
  std::shared_ptr<const ScanPool> pool_;  // may be null
  size_t min_rows_per_part_;
  bool sample_first_;
  size_t allowed_scan_budget_;
  ExactScorer exact_;
  mutable std::atomic<uint64_t> sample_misses_{0};
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_INT8_SCORER_H_
