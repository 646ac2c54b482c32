// Scorer: one interface, several ways to find the items with the largest
// inner product <query, item> (exact SIMD scan, int8 candidate scan with an
// exact re-rank, IVF lists scanned in int8 and re-ranked, HNSW graph
// search). A Scorer
// is immutable after construction and safe to call from many threads.
//
// Contract for every implementation: results are best first, never contain
// an excluded or not-allowed index, and hold min(k, number of allowed items
// not excluded) entries.
#ifndef AFFINITY_SERVER_SCORING_SCORER_H_
#define AFFINITY_SERVER_SCORING_SCORER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_pool.h"
#include "server/scoring/top_k.h"

namespace affinity::server {

// What a scorer prepared for one allowed set (Scorer::PrepareAllowed), e.g.
// a compact copy of just those rows. Immutable; thread-safe to read.
class AllowedScan {
 public:
  virtual ~AllowedScan() = default;
  // Memory it holds.
  virtual size_t bytes() const = 0;
};

struct ScoringQuery {
  // dims floats (ItemMatrix::dims()); padding is added by the scorer.
  absl::Span<const float> vector;
  size_t k = 0;
  const ExclusionSet* excluded = nullptr;  // may be null
  // When set, only these items may be returned (may be null).
  const ItemBitmap* allowed = nullptr;
  // When set, returned items must pass it too (may be null).
  const ItemPredicate* also_allowed = nullptr;
  // When set: what the scoring scorer's PrepareAllowed returned for
  // `allowed` (may be null; the scorer then scans as without it).
  const AllowedScan* allowed_scan = nullptr;
  // Keeps `allowed`, `also_allowed` and `allowed_scan` alive while anything holds the query:
  // a MicroBatcher keeps it past a caller that leaves at its deadline. May
  // be null when the caller outlives the scoring (the batcher then copies
  // `allowed`; `also_allowed` needs an owner there).
  std::shared_ptr<const void> owner;
};

struct ScoringResult {
  std::vector<ScoredIndex> items;
  // Item vectors whose score was computed for this query.
  uint64_t items_scored = 0;
  // Candidates good enough to rank that were skipped because `allowed`
  // did not hold them / `excluded` did.
  uint64_t not_allowed = 0;
  uint64_t excluded_hits = 0;
  // Scorers with a re-rank stage (HasRerank): the time the call that
  // produced this result spent re-ranking candidates exactly (for a batch,
  // the whole batch's re-rank, which every query of it waits for); part of
  // the call's time. 0 otherwise.
  double rerank_seconds = 0;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual const char* name() const = 0;
  virtual size_t items() const = 0;
  virtual ScoringResult TopK(const ScoringQuery& query) const = 0;
  // Scores several queries together; results are in query order and equal
  // what TopK would return for each. The default calls TopK per query.
  virtual std::vector<ScoringResult> TopKBatch(
      absl::Span<const ScoringQuery> queries) const;
  // True when TopKBatch is cheaper than separate TopK calls (so waiting to
  // gather a batch pays off).
  virtual bool BenefitsFromBatching() const { return false; }
  // True when results come from a compact candidate scan re-ranked exactly,
  // and carry the re-rank's time (ScoringResult::rerank_seconds).
  virtual bool HasRerank() const { return false; }
  // True when the rows a query reads do not depend on its k (every allowed
  // row is scored), so its best m are the first m of its best n > m
  // (whenever both are exact, for a scorer with a candidate stage). False
  // (the default) for searches that widen with k (IVF probes, HNSW's ef).
  virtual bool ScansEveryAllowedRow() const { return false; }
  // Prepares queries restricted to `allowed` (a rule set's items), before
  // any of them comes: queries naming the result (ScoringQuery::allowed_scan,
  // with the same `allowed`) may then be scored from it, with the same
  // answers. Null (the default): nothing to prepare for this set, or it
  // would hold more than `max_bytes`.
  virtual std::shared_ptr<const AllowedScan> PrepareAllowed(const ItemBitmap& allowed,
                                                            size_t max_bytes) const {
    (void)allowed;
    (void)max_bytes;
    return nullptr;
  }
  // The bytes that everything PrepareAllowed returns for one set of rules
  // (a PreparedRules) may hold together; 0 (the default): nothing.
  virtual size_t AllowedScanBudget() const { return 0; }
};

enum class ScorerKind { kExact, kHnsw, kInt8, kIvf };

struct ScorerOptions {
  ScorerKind kind = ScorerKind::kExact;
  // HNSW graph parameters (inner-product space).
  size_t hnsw_m = 16;
  size_t hnsw_ef_construction = 200;
  size_t hnsw_ef = 200;
  // int8 scorer: candidates kept per query by the int8 scan, as a multiple
  // of k (re-ranked exactly in float32).
  size_t int8_candidate_factor = 2;
  // int8 scorer: bytes the rule sets' own int8 copies (Int8Scorer's
  // PrepareAllowed) may hold together, per loaded version; negative: half
  // of the full int8 copy's bytes (Int8Scorer::DefaultAllowedScanBudget).
  int64_t int8_allowed_copy_bytes = -1;
  // IVF scorer (ivf_scorer.h): k-means lists, and lists scanned per query;
  // 0: IvfScorer's defaults (about sqrt(items) lists, a 32nd probed).
  // Its candidates per query are int8_candidate_factor * k too.
  size_t ivf_lists = 0;
  size_t ivf_probes = 0;
  // Threads used to build an HNSW index.
  int build_threads = 2;
  // When set and it turns true, a build in progress stops with Cancelled
  // (used to shut down without waiting for a long index build).
  const std::atomic<bool>* cancel = nullptr;
  // A model whose load would need more memory than this (estimated from
  // its item count and dims before anything is allocated) is refused with
  // ResourceExhausted. 0: the memory the system has available
  // (MemAvailable) when the load starts.
  size_t max_load_bytes = 0;
  // Threads that split scans by item range (the exact scorer, the int8
  // scorer's candidate pass, the similar-items scorer and HNSW's exact
  // fallback); null: no split.
  std::shared_ptr<const ScanPool> scan_pool;
};

// Parses "exact", "int8", "ivf" or "hnsw".
absl::StatusOr<ScorerKind> ParseScorerKind(absl::string_view name);

// Builds the configured scorer over `items` (shared, not copied).
absl::StatusOr<std::unique_ptr<Scorer>> MakeScorer(
    std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_SCORER_H_
