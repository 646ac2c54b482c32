#include "server/scoring/int8_scorer.h"

#include <algorithm>
#include <limits>

#include "server/scoring/dot_kernels.h"

namespace affinity::server {
namespace {

// Blocks per pass of the kernel: 1024 rows, whose int32 sums for a full set
// of queries (64 x 1024 x 4 bytes) stay in L2.
constexpr size_t kChunkBlocks = 64;

// Exact scores of `candidates` as ExactScorer::TopK computes them (DotRows).
std::vector<ScoredIndex> RerankSingle(const ItemMatrix& m, const std::vector<float>& query,
                                      const std::vector<ScoredIndex>& candidates, size_t k) {
  TopKHeap heap(k, nullptr);
  for (const ScoredIndex& c : candidates) {
    float score;
    DotRows(m.row(c.index), 1, m.stride(), query.data(), &score);
    heap.Push(c.index, score);
  }
  return heap.Take();
}

// Exact scores of `candidates` as ExactScorer::TopKBatch computes them
// (DotRowsMulti: one sequential FMA chain per query lane), over the
// candidate rows gathered side by side.
std::vector<ScoredIndex> RerankBatched(const ItemMatrix& m, const std::vector<float>& query,
                                       const std::vector<ScoredIndex>& candidates, size_t k) {
  const size_t width = MultiQueryWidth(1);
  std::vector<float> transposed(m.dims() * width);
  const float* q = query.data();
  TransposeQueries(&q, 1, m.dims(), transposed.data());
  std::vector<float> rows(candidates.size() * m.stride());
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::copy_n(m.row(candidates[i].index), m.stride(), rows.data() + i * m.stride());
  }
  std::vector<float> scores(candidates.size() * width);
  DotRowsMulti(rows.data(), candidates.size(), m.stride(), m.dims(), transposed.data(), width,
               scores.data());
  TopKHeap heap(k, nullptr);
  for (size_t i = 0; i < candidates.size(); ++i) heap.Push(candidates[i].index, scores[i * width]);
  return heap.Take();
}

}  // namespace

Int8Scorer::Int8Scorer(std::shared_ptr<const ItemMatrix> items, size_t candidate_factor,
                       Int8Isa isa)
    : items_(items),
      int8_(std::make_unique<const Int8Matrix>(*items)),
      candidate_factor_(std::max<size_t>(candidate_factor, 1)),
      isa_(isa),
      exact_(items) {}

size_t Int8Scorer::CandidatesFor(size_t k) const {
  if (k > std::numeric_limits<size_t>::max() / candidate_factor_) return items_->rows();
  return std::min(k * candidate_factor_, std::max(items_->rows(), k));
}

std::vector<TopKHeap> Int8Scorer::Scan(absl::Span<const ScoringQuery> queries) const {
  const Int8Matrix& m = *int8_;
  const size_t nq = queries.size();
  std::vector<TopKHeap> heaps;
  heaps.reserve(nq);
  std::vector<Int8Query> quantized;
  quantized.reserve(nq);
  std::vector<const int8_t*> pointers;
  for (const ScoringQuery& query : queries) {
    heaps.emplace_back(CandidatesFor(query.k), query.excluded, query.allowed);
    quantized.push_back(m.Quantize(query.vector));
    pointers.push_back(quantized.back().values.data());
  }
  constexpr size_t kChunkRows = kChunkBlocks * kInt8BlockRows;
  std::vector<int32_t> dots(nq * kChunkRows);
  std::vector<float> scores(kChunkRows);
  for (size_t b = 0; b < m.blocks(); b += kChunkBlocks) {
    const size_t nb = std::min(kChunkBlocks, m.blocks() - b);
    Int8DotBlocks(isa_, m.block(b), nb, m.groups(), pointers.data(), nq, dots.data());
    const size_t first = b * kInt8BlockRows;
    const size_t n = std::min(nb * kInt8BlockRows, m.rows() - first);
    const float* row_scales = m.scales() + first;
    for (size_t q = 0; q < nq; ++q) {
      const int32_t* d = dots.data() + q * nb * kInt8BlockRows;
      // Most chunks hold nothing good enough once the heap is full.
      if (Int8ScaleScores(isa_, d, row_scales, quantized[q].scale, heaps[q].threshold(), n,
                          scores.data())) {
        heaps[q].PushBlock(static_cast<uint32_t>(first), scores.data(), n);
      }
    }
  }
  return heaps;
}

std::vector<ScoredIndex> Int8Scorer::Candidates(const ScoringQuery& query) const {
  std::vector<TopKHeap> heaps = Scan(absl::MakeConstSpan(&query, 1));
  return heaps[0].Take();
}

ScoringResult Int8Scorer::TopK(const ScoringQuery& query) const {
  if (exact_.UsesGather(query)) return exact_.TopK(query);
  std::vector<TopKHeap> heaps = Scan(absl::MakeConstSpan(&query, 1));
  TopKHeap& candidates = heaps[0];
  const uint64_t not_allowed = candidates.not_allowed();
  const uint64_t excluded_hits = candidates.excluded_hits();
  const ItemMatrix& m = *items_;
  ScoringResult result;
  result.items = RerankSingle(m, m.PadQuery(query.vector), candidates.Take(), query.k);
  result.items_scored = m.rows();
  result.not_allowed = not_allowed;
  result.excluded_hits = excluded_hits;
  return result;
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
  for (size_t first = 0; first < scan.size(); first += kInt8MaxQueries) {
    const size_t n = std::min(kInt8MaxQueries, scan.size() - first);
    std::vector<TopKHeap> heaps = Scan(absl::MakeConstSpan(scan.data() + first, n));
    for (size_t j = 0; j < n; ++j) {
      const ScoringQuery& query = scan[first + j];
      ScoringResult& result = out[scan_pos[first + j]];
      result.not_allowed = heaps[j].not_allowed();
      result.excluded_hits = heaps[j].excluded_hits();
      result.items = RerankBatched(m, m.PadQuery(query.vector), heaps[j].Take(), query.k);
      result.items_scored = m.rows();
    }
  }
  return out;
}

}  // namespace affinity::server
