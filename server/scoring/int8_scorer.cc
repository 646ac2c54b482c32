#include "server/scoring/int8_scorer.h"

#include <algorithm>
#include <chrono>

#include "server/scoring/rerank.h"

namespace affinity::server {
Int8Scorer::Int8Scorer(std::shared_ptr<const ItemMatrix> items, size_t candidate_factor,
                       Int8Isa isa, std::shared_ptr<const ScanPool> pool,
                       size_t min_rows_per_part)
    : items_(items),
      int8_(std::make_unique<const Int8Matrix>(*items)),
      candidate_factor_(std::max<size_t>(candidate_factor, 1)),
      isa_(isa),
      pool_(std::move(pool)),
      min_rows_per_part_(std::max<size_t>(min_rows_per_part, 1)),
      exact_(items, ExactScorerOptions{pool_}) {}

size_t Int8Scorer::CandidatesFor(size_t k) const {
  return CandidateCount(k, candidate_factor_, items_->rows());
}

size_t Int8Scorer::Parts() const {
  if (pool_ == nullptr || pool_->parallelism() <= 1) return 1;
  const size_t by_size = items_->rows() / min_rows_per_part_;
  return std::max<size_t>(1, std::min(static_cast<size_t>(pool_->parallelism()), by_size));
}

std::vector<Int8Scorer::Stage1> Int8Scorer::Scan(absl::Span<const ScoringQuery> queries) const {
  const Int8Matrix& m = *int8_;
  const size_t nq = queries.size();
  std::vector<Int8Query> quantized;
  quantized.reserve(nq);
  std::vector<const int8_t*> pointers;
  for (const ScoringQuery& query : queries) {
    quantized.push_back(m.Quantize(query.vector));
    pointers.push_back(quantized.back().values.data());
  }
  // selectors[part][query], part p holding the candidates of its own blocks.
  const size_t parts = Parts();
  std::vector<std::vector<TopKSelector>> selectors(parts);
  for (std::vector<TopKSelector>& part : selectors) {
    part.reserve(nq);
    for (const ScoringQuery& query : queries) {
      part.emplace_back(CandidatesFor(query.k), query.excluded, query.allowed,
                        query.also_allowed);
    }
  }
  constexpr size_t kChunkRows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t chunks = (m.blocks() + kInt8ScanChunkBlocks - 1) / kInt8ScanChunkBlocks;
  auto scan = [&](size_t part) {
    // Whole chunks per part, as even as they come.
    const size_t begin = std::min(m.blocks(), chunks * part / parts * kInt8ScanChunkBlocks);
    const size_t end = std::min(m.blocks(), chunks * (part + 1) / parts * kInt8ScanChunkBlocks);
    std::vector<TopKSelector>& own = selectors[part];
    std::vector<int32_t> dots(nq * kChunkRows);
    uint64_t masks[kChunkRows / 64];
    for (size_t b = begin; b < end; b += kInt8ScanChunkBlocks) {
      const size_t nb = std::min(kInt8ScanChunkBlocks, end - b);
      Int8DotBlocks(isa_, m.block(b), nb, m.groups(), pointers.data(), nq, dots.data());
      const size_t first = b * kInt8BlockRows;
      const size_t n = std::min(nb * kInt8BlockRows, m.rows() - first);
      const float* row_scales = m.scales() + first;
      for (size_t q = 0; q < nq; ++q) {
        const int32_t* d = dots.data() + q * nb * kInt8BlockRows;
        // Most rows are below the threshold once k candidates are held:
        // only those at or above it are scaled again and pushed.
        const float query_scale = quantized[q].scale;
        if (Int8ScoresAtOrAbove(isa_, d, row_scales, query_scale, own[q].threshold(), n,
                                masks)) {
          own[q].PushMasked(static_cast<uint32_t>(first), masks, n, [&](size_t i) {
            return Int8Score(d[i], row_scales[i], query_scale);
          });
        }
      }
    }
  };
  if (parts == 1) {
    scan(0);
  } else {
    pool_->Run(parts, scan);
  }
  // Each query's best candidates over the parts: those of one selection over
  // every block (ties to the lower index either way).
  std::vector<Stage1> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    Stage1& stage = out[q];
    if (parts == 1) {
      stage.not_allowed = selectors[0][q].not_allowed();
      stage.excluded_hits = selectors[0][q].excluded_hits();
      stage.candidates = selectors[0][q].Take();
      continue;
    }
    for (std::vector<TopKSelector>& part : selectors) {
      stage.not_allowed += part[q].not_allowed();
      stage.excluded_hits += part[q].excluded_hits();
      stage.candidates = MergeBestFirst(stage.candidates, part[q].Take(), CandidatesFor(queries[q].k));
    }
  }
  return out;
}

std::vector<ScoredIndex> Int8Scorer::Candidates(const ScoringQuery& query) const {
  return Scan(absl::MakeConstSpan(&query, 1))[0].candidates;
}

ScoringResult Int8Scorer::TopK(const ScoringQuery& query) const {
  if (exact_.UsesGather(query)) return exact_.TopK(query);
  return TopKBatch(absl::MakeConstSpan(&query, 1))[0];
}

std::vector<ScoringResult> Int8Scorer::TopKBatch(absl::Span<const ScoringQuery> queries) const {
  std::vector<ScoringResult> out(queries.size());
  std::vector<ScoringQuery> scan;
  std::vector<size_t> scan_pos;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (exact_.UsesGather(queries[i])) {
      out[i] = exact_.TopK(queries[i]);
    } else {
      scan.push_back(queries[i]);
      scan_pos.push_back(i);
    }
  }
  const ItemMatrix& m = *items_;
  double rerank_seconds = 0;
  for (size_t first = 0; first < scan.size(); first += kInt8MaxQueries) {
    const size_t n = std::min(kInt8MaxQueries, scan.size() - first);
    std::vector<Stage1> stages = Scan(absl::MakeConstSpan(scan.data() + first, n));
    const auto rerank_start = std::chrono::steady_clock::now();
    for (size_t j = 0; j < n; ++j) {
      const ScoringQuery& query = scan[first + j];
      ScoringResult& result = out[scan_pos[first + j]];
      result.not_allowed = stages[j].not_allowed;
      result.excluded_hits = stages[j].excluded_hits;
      result.items = RerankExactly(m, m.PadQuery(query.vector), stages[j].candidates, query.k);
      result.items_scored = m.rows();
    }
    rerank_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                    rerank_start)
                          .count();
  }
  // Every query of the call waits for all the re-ranks.
  for (ScoringResult& result : out) result.rerank_seconds = rerank_seconds;
  return out;
}

}  // namespace affinity::server
