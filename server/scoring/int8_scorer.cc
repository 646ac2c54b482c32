#include "server/scoring/int8_scorer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <new>

#include "server/scoring/rerank.h"

namespace affinity::server {
Int8Scorer::Int8Scorer(std::shared_ptr<const ItemMatrix> items, size_t candidate_factor,
                       Int8Isa isa, std::shared_ptr<const ScanPool> pool,
                       size_t min_rows_per_part, bool sample_first,
                       std::optional<size_t> allowed_scan_budget)
    : items_(items),
      int8_(std::make_unique<const Int8Matrix>(*items)),
      candidate_factor_(std::max<size_t>(candidate_factor, 1)),
      isa_(isa),
      pool_(std::move(pool)),
      min_rows_per_part_(std::max<size_t>(min_rows_per_part, 1)),
      sample_first_(sample_first),
      allowed_scan_budget_(allowed_scan_budget.value_or(
          DefaultAllowedScanBudget(items_->rows(), items_->dims()))),
      exact_(items, ExactScorerOptions{pool_}) {}

size_t Int8Scorer::DefaultAllowedScanBudget(size_t rows, size_t dims) {
  return Int8Matrix::BytesFor(rows, dims) / 2;
}

size_t Int8Scorer::CandidatesFor(size_t k) const {
  return CandidateCount(k, candidate_factor_, items_->rows());
}

Int8AllowedScan::Int8AllowedScan(const Int8Scorer* scorer, const ItemBitmap* allowed,
                                 const ItemMatrix& items)
    : scorer_(scorer), allowed_(allowed), items_(allowed->Indices()), matrix_(items, items_) {}

size_t Int8AllowedScan::BytesFor(size_t rows, size_t dims) {
  return Int8Matrix::BytesFor(rows, dims) + rows * sizeof(uint32_t);
}

size_t Int8AllowedScan::bytes() const {
  return matrix_.bytes() + items_.capacity() * sizeof(uint32_t);
}

std::shared_ptr<const AllowedScan> Int8Scorer::PrepareAllowed(const ItemBitmap& allowed,
                                                              size_t max_bytes) const {
  const double share = static_cast<double>(allowed.count()) /
                       static_cast<double>(std::max<size_t>(1, items_->rows()));
  if (allowed.count() == 0 || share > kAllowedScanMaxShare || exact_.UsesGather(allowed) ||
      Int8AllowedScan::BytesFor(allowed.count(), items_->dims()) > max_bytes) {
    return nullptr;
  }
  try {
    return std::make_shared<const Int8AllowedScan>(this, &allowed, *items_);
  } catch (const std::bad_alloc&) {
    return nullptr;  // its queries read the full matrix, as without a copy
  }
}

const Int8AllowedScan* Int8Scorer::OwnAllowedScan(const ScoringQuery& query) const {
  const auto* scan = dynamic_cast<const Int8AllowedScan*>(query.allowed_scan);
  if (scan == nullptr || scan->scorer() != this || scan->allowed() != query.allowed) return nullptr;
  return scan;
}

size_t Int8Scorer::Parts(size_t rows) const {
  if (pool_ == nullptr || pool_->parallelism() <= 1) return 1;
  const size_t by_size = rows / min_rows_per_part_;
  return std::max<size_t>(1, std::min(static_cast<size_t>(pool_->parallelism()), by_size));
}

namespace {

// Which chunks of its range a scan visits.
enum class Chunks { kAll, kSample, kRest };

bool Visits(Chunks which, size_t chunk) {
  if (which == Chunks::kAll) return true;
  const bool sampled = chunk % kInt8SampleStride == kInt8SampleStride / 2;
  return sampled == (which == Chunks::kSample);
}

// How many of its best sampled rows set a query's starting threshold: the
// sample holds about 1 / kInt8SampleStride of the rows, so about
// kInt8SampleMargin * candidates rows of the whole matrix score above its
// `SampleRank`-th best.
size_t SampleRank(size_t candidates) {
  return std::max(kInt8SampleMinRank,
                  (candidates * kInt8SampleMargin + kInt8SampleStride - 1) / kInt8SampleStride);
}

// The smallest float above `score`: every row the sample dropped scores at
// most `score`, so a threshold just above it drops nothing a full selection
// could tie with.
float JustAbove(float score) {
  return std::nextafter(score, std::numeric_limits<float>::infinity());
}

}  // namespace

std::vector<Int8Scorer::Stage1> Int8Scorer::Scan(absl::Span<const ScoringQuery> queries,
                                                 bool sample_first,
                                                 const Int8AllowedScan* allowed_scan) const {
  const Int8Matrix& m = allowed_scan != nullptr ? allowed_scan->matrix() : *int8_;
  // Rows of a copy stand for their items; every one of them is allowed.
  const uint32_t* index_of = allowed_scan != nullptr ? allowed_scan->items().data() : nullptr;
  const size_t nq = queries.size();
  std::vector<Int8Query> quantized;
  quantized.reserve(nq);
  std::vector<const int8_t*> pointers;
  std::vector<float> query_scales;
  for (const ScoringQuery& query : queries) {
    quantized.push_back(m.Quantize(query.vector));
    pointers.push_back(quantized.back().values.data());
    query_scales.push_back(quantized.back().scale);
  }
  const size_t parts = Parts(m.rows());
  constexpr size_t kChunkRows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t chunks = (m.blocks() + kInt8ScanChunkBlocks - 1) / kInt8ScanChunkBlocks;
  // selectors[part][query], part p holding the candidates of its own
  // chunks (those of `which`) at or above the query's threshold; once the
  // part's chunks are scanned, its candidates best first in taken[part][query]
  // (each part sorts its own on its thread, so the merge below is linear).
  using PartSelectors = std::vector<std::vector<TopKSelector>>;
  using PartCandidates = std::vector<std::vector<std::vector<ScoredIndex>>>;
  auto make_selectors = [&](auto count_of) {
    PartSelectors selectors(parts);
    for (std::vector<TopKSelector>& part : selectors) {
      part.reserve(nq);
      for (const ScoringQuery& query : queries) {
        part.emplace_back(count_of(query), query.excluded,
                          allowed_scan != nullptr ? nullptr : query.allowed, query.also_allowed);
      }
    }
    return selectors;
  };
  auto scan = [&](PartSelectors& selectors, PartCandidates& taken, Chunks which) {
    taken.assign(parts, std::vector<std::vector<ScoredIndex>>(nq));
    // The chunks of `which`, claimed kInt8ClaimChunks at a time by whichever
    // part is free: a part whose thread loses its core for a while (to a
    // request thread, or to a neighbour) leaves its share to the others
    // instead of holding up the pass. Which part scans which chunk changes
    // nothing: every part keeps the best of what it scanned, and the merge
    // keeps the best of those (ties to the lower index).
    std::vector<size_t> visit;
    for (size_t c = 0; c < chunks; ++c) {
      if (Visits(which, c)) visit.push_back(c);
    }
    std::atomic<size_t> next_claim{0};
    auto scan_part = [&](size_t part) {
      std::vector<TopKSelector>& own = selectors[part];
      std::vector<int32_t> dots(nq * kChunkRows);
      std::vector<uint64_t> masks(nq * Int8MaskWords(kInt8ScanChunkBlocks));
      std::vector<float> thresholds(nq);
      auto scan_chunk = [&](size_t c) {
        const size_t b = c * kInt8ScanChunkBlocks;
        const size_t nb = std::min(kInt8ScanChunkBlocks, m.blocks() - b);
        const size_t first = b * kInt8BlockRows;
        const size_t n = std::min(nb * kInt8BlockRows, m.rows() - first);
        const float* row_scales = m.scales() + first;
        // Most rows are below the threshold once k candidates are held:
        // only those at or above it are scaled again and pushed.
        for (size_t q = 0; q < nq; ++q) thresholds[q] = own[q].threshold();
        Int8ScanBlocks(isa_, m.block(b), nb, m.groups(), pointers.data(), nq, row_scales, n,
                       query_scales.data(), thresholds.data(), dots.data(), masks.data());
        const size_t words = Int8MaskWords(nb);
        for (size_t q = 0; q < nq; ++q) {
          const int32_t* d = dots.data() + q * nb * kInt8BlockRows;
          const float query_scale = query_scales[q];
          own[q].PushMasked(
              static_cast<uint32_t>(first), masks.data() + q * words, n,
              [&](size_t i) { return Int8Score(d[i], row_scales[i], query_scale); }, index_of);
        }
      };
      for (size_t start;
           (start = next_claim.fetch_add(kInt8ClaimChunks, std::memory_order_relaxed)) <
           visit.size();) {
        const size_t end = std::min(start + kInt8ClaimChunks, visit.size());
        for (size_t i = start; i < end; ++i) scan_chunk(visit[i]);
      }
      for (size_t q = 0; q < nq; ++q) taken[part][q] = own[q].Take();
    };
    if (parts == 1) {
      scan_part(0);
    } else {
      pool_->Run(parts, scan_part);
    }
  };
  // Merges each query's candidates over the parts into out[q], adding up
  // what the selections skipped: those of one selection over the same
  // chunks (ties to the lower index either way).
  std::vector<Stage1> out(nq);
  auto merge_into = [&](const PartSelectors& selectors, const PartCandidates& taken,
                        std::vector<Stage1>& merged, auto count_of) {
    for (size_t q = 0; q < nq; ++q) {
      Stage1& stage = merged[q];
      for (size_t part = 0; part < parts; ++part) {
        stage.not_allowed += selectors[part][q].not_allowed();
        stage.excluded_hits += selectors[part][q].excluded_hits();
        stage.candidates =
            MergeBestFirst(stage.candidates, taken[part][q], count_of(queries[q]));
      }
    }
  };
  auto candidates_of = [&](const ScoringQuery& query) { return CandidatesFor(query.k); };
  if (!sample_first || chunks < kInt8SampleMinChunks) {
    PartSelectors selectors = make_selectors(candidates_of);
    PartCandidates taken;
    scan(selectors, taken, Chunks::kAll);
    merge_into(selectors, taken, out, candidates_of);
    return out;
  }

  // The sample: each query's SampleRank best over it; the threshold starts
  // just above the worst of them (-inf when the sample holds fewer).
  auto sample_rank_of = [&](const ScoringQuery& query) {
    return SampleRank(CandidatesFor(query.k));
  };
  PartSelectors sample_selectors = make_selectors(sample_rank_of);
  PartCandidates taken;
  scan(sample_selectors, taken, Chunks::kSample);
  merge_into(sample_selectors, taken, out, sample_rank_of);
  std::vector<float> floors(nq, -std::numeric_limits<float>::infinity());
  for (size_t q = 0; q < nq; ++q) {
    std::vector<ScoredIndex>& sampled = out[q].candidates;
    if (sampled.size() < sample_rank_of(queries[q])) continue;
    floors[q] = JustAbove(sampled.back().score);
    while (!sampled.empty() && sampled.back().score < floors[q]) sampled.pop_back();
  }
  // The rest, from those thresholds on; the sampled rows above them join.
  PartSelectors selectors = make_selectors(candidates_of);
  for (std::vector<TopKSelector>& part : selectors) {
    for (size_t q = 0; q < nq; ++q) part[q].RaiseThreshold(floors[q]);
  }
  scan(selectors, taken, Chunks::kRest);
  merge_into(selectors, taken, out, candidates_of);
  // A query short of its candidates may have lost some below its threshold:
  // scanned again, whole.
  std::vector<ScoringQuery> short_queries;
  std::vector<size_t> short_positions;
  for (size_t q = 0; q < nq; ++q) {
    if (floors[q] > -std::numeric_limits<float>::infinity() &&
        out[q].candidates.size() < CandidatesFor(queries[q].k)) {
      short_queries.push_back(queries[q]);
      short_positions.push_back(q);
    }
  }
  if (!short_queries.empty()) {
    sample_misses_.fetch_add(short_queries.size(), std::memory_order_relaxed);
    std::vector<Stage1> again = Scan(short_queries, /*sample_first=*/false, allowed_scan);
    for (size_t i = 0; i < again.size(); ++i) {
      out[short_positions[i]] = std::move(again[i]);
      out[short_positions[i]].scanned_again = true;
    }
  }
  return out;
}

std::vector<ScoredIndex> Int8Scorer::Candidates(const ScoringQuery& query) const {
  return Scan(absl::MakeConstSpan(&query, 1), sample_first_, OwnAllowedScan(query))[0].candidates;
}

ScoringResult Int8Scorer::TopK(const ScoringQuery& query) const {
  if (exact_.UsesGather(query)) return exact_.TopK(query);
  return TopKBatch(absl::MakeConstSpan(&query, 1))[0];
}

std::vector<ScoringResult> Int8Scorer::TopKBatch(absl::Span<const ScoringQuery> queries) const {
  std::vector<ScoringResult> out(queries.size());
  // The queries that scan, grouped by the rows they scan (the whole int8
  // matrix, or one allowed set's copy), each group in arrival order.
  struct Group {
    const Int8AllowedScan* allowed_scan;
    std::vector<ScoringQuery> queries;
    std::vector<size_t> positions;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (exact_.UsesGather(queries[i])) {
      out[i] = exact_.TopK(queries[i]);
      continue;
    }
    const Int8AllowedScan* allowed_scan = OwnAllowedScan(queries[i]);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.allowed_scan == allowed_scan; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{allowed_scan, {}, {}});
    it->queries.push_back(queries[i]);
    it->positions.push_back(i);
  }
  const ItemMatrix& m = *items_;
  double rerank_seconds = 0;
  for (const Group& group : groups) {
    const size_t rows = group.allowed_scan != nullptr ? group.allowed_scan->matrix().rows()
                                                      : m.rows();
    for (size_t first = 0; first < group.queries.size(); first += kInt8MaxQueries) {
      const size_t n = std::min(kInt8MaxQueries, group.queries.size() - first);
      std::vector<Stage1> stages = Scan(absl::MakeConstSpan(group.queries.data() + first, n),
                                        sample_first_, group.allowed_scan);
      const auto rerank_start = std::chrono::steady_clock::now();
      auto rerank = [&](size_t j) {
        const ScoringQuery& query = group.queries[first + j];
        ScoringResult& result = out[group.positions[first + j]];
        result.not_allowed = stages[j].not_allowed;
        result.excluded_hits = stages[j].excluded_hits;
        result.items = RerankExactly(m, m.PadQuery(query.vector), stages[j].candidates, query.k);
        result.items_scored = stages[j].scanned_again ? 2 * rows : rows;
      };
      // The queries' re-ranks are independent: spread over the pool's threads.
      const size_t threads = pool_ == nullptr ? 1 : std::min<size_t>(n, pool_->parallelism());
      if (threads <= 1) {
        for (size_t j = 0; j < n; ++j) rerank(j);
      } else {
        pool_->Run(threads, [&](size_t part) {
          for (size_t j = n * part / threads; j < n * (part + 1) / threads; ++j) rerank(j);
        });
      }
      rerank_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                      rerank_start)
                            .count();
    }
  }
  // Every query of the call waits for all the re-ranks.
  for (ScoringResult& result : out) result.rerank_seconds = rerank_seconds;
  return out;
}

}  // namespace affinity::server
