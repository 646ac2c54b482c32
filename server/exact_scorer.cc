#include "server/exact_scorer.h"

#include <algorithm>
#include <limits>

#include "server/dot_kernels.h"

namespace affinity::server {
namespace {

// Rows per block: 256 rows x 64 dims x 4 bytes = 64 KiB, within L2.
constexpr size_t kBlockRows = 256;
// Rows per block of a batch; their scores (rows x width floats) stay in L1/L2.
constexpr size_t kBatchBlockRows = 256;

}  // namespace

ExactScorer::ExactScorer(std::shared_ptr<const ItemMatrix> items)
    : items_(std::move(items)) {}

ScoringResult ExactScorer::TopK(const ScoringQuery& query) const {
  const ItemMatrix& m = *items_;
  const std::vector<float> q = m.PadQuery(query.vector);
  TopKHeap heap(query.k, query.excluded);
  float scores[kBlockRows];
  for (size_t first = 0; first < m.rows(); first += kBlockRows) {
    const size_t n = std::min(kBlockRows, m.rows() - first);
    DotRows(m.row(first), n, m.stride(), q.data(), scores);
    heap.PushBlock(static_cast<uint32_t>(first), scores, n);
  }
  return ScoringResult{heap.Take(), m.rows()};
}

std::vector<ScoringResult> ExactScorer::TopKBatch(
    absl::Span<const ScoringQuery> queries) const {
  const ItemMatrix& m = *items_;
  const size_t nq = queries.size();
  std::vector<std::vector<float>> padded;
  std::vector<const float*> qptr;
  std::vector<TopKHeap> heaps;
  padded.reserve(nq);
  heaps.reserve(nq);
  for (const ScoringQuery& query : queries) {
    padded.push_back(m.PadQuery(query.vector));
    qptr.push_back(padded.back().data());
    heaps.emplace_back(query.k, query.excluded);
  }
  const size_t width = MultiQueryWidth(nq);
  std::vector<float> transposed(m.dims() * width);
  TransposeQueries(qptr.data(), nq, m.dims(), transposed.data());
  std::vector<float> scores(kBatchBlockRows * width);
  // Each query's entry threshold, side by side, so one vector compare per
  // row tells whether any query wants the item (+inf for padding lanes).
  std::vector<float> thresholds(width, std::numeric_limits<float>::infinity());
  for (size_t q = 0; q < nq; ++q) thresholds[q] = heaps[q].threshold();
  for (size_t first = 0; first < m.rows(); first += kBatchBlockRows) {
    const size_t n = std::min(kBatchBlockRows, m.rows() - first);
    DotRowsMulti(m.row(first), n, m.stride(), m.dims(), transposed.data(), width,
                 scores.data());
    for (size_t i = 0; i < n; ++i) {
      const float* row_scores = scores.data() + i * width;
      const uint32_t index = static_cast<uint32_t>(first + i);
      if (!AnyAtLeast(row_scores, thresholds.data(), width)) continue;
      for (size_t q = 0; q < nq; ++q) {
        heaps[q].Push(index, row_scores[q]);
        thresholds[q] = heaps[q].threshold();
      }
    }
  }
  std::vector<ScoringResult> out;
  out.reserve(nq);
  for (TopKHeap& heap : heaps) out.push_back(ScoringResult{heap.Take(), m.rows()});
  return out;
}

}  // namespace affinity::server
