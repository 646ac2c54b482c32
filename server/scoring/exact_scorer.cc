#include "server/scoring/exact_scorer.h"

#include <algorithm>
#include <limits>

#include "server/scoring/dot_kernels.h"

namespace affinity::server {
namespace {

// Rows per block: 256 rows x 64 dims x 4 bytes = 64 KiB, within L2.
constexpr size_t kBlockRows = 256;
// Below this fraction of allowed items, only the allowed rows are scored
// (gather scan) instead of the whole matrix.
constexpr double kGatherFraction = 0.05;

// Rows per block of a batch; their scores (rows x width floats) stay in L1/L2.
constexpr size_t kBatchBlockRows = 256;

}  // namespace

ExactScorer::ExactScorer(std::shared_ptr<const ItemMatrix> items)
    : items_(std::move(items)) {}

ExactScorer::ExactScorer(std::shared_ptr<const ItemMatrix> items,
                         std::shared_ptr<const std::vector<float>> row_scales)
    : items_(std::move(items)), row_scales_(std::move(row_scales)) {}

void ExactScorer::Dot(size_t first, size_t n, const float* query, float* out) const {
  const ItemMatrix& m = *items_;
  if (row_scales_ == nullptr) {
    DotRows(m.row(first), n, m.stride(), query, out);
  } else {
    DotRowsScaled(m.row(first), n, m.stride(), query, row_scales_->data() + first, out);
  }
}

void ExactScorer::DotMulti(size_t first, size_t n, const float* transposed, size_t width,
                           float* out) const {
  const ItemMatrix& m = *items_;
  if (row_scales_ == nullptr) {
    DotRowsMulti(m.row(first), n, m.stride(), m.dims(), transposed, width, out);
  } else {
    DotRowsMultiScaled(m.row(first), n, m.stride(), m.dims(), row_scales_->data() + first,
                       transposed, width, out);
  }
}

ScoringResult ExactScorer::TopK(const ScoringQuery& query) const {
  const ItemMatrix& m = *items_;
  const std::vector<float> q = m.PadQuery(query.vector);
  TopKHeap heap(query.k, query.excluded, query.allowed);
  if (UsesGather(query)) {
    const std::vector<uint32_t> allowed = query.allowed->Indices();
    for (uint32_t index : allowed) {
      if (index >= m.rows()) break;
      float score;
      Dot(index, 1, q.data(), &score);
      heap.Push(index, score);
    }
    ScoringResult result{heap.Take(), allowed.size()};
    return result;
  }
  float scores[kBlockRows];
  for (size_t first = 0; first < m.rows(); first += kBlockRows) {
    const size_t n = std::min(kBlockRows, m.rows() - first);
    Dot(first, n, q.data(), scores);
    heap.PushBlock(static_cast<uint32_t>(first), scores, n);
  }
  ScoringResult result{heap.Take(), m.rows(), heap.not_allowed(), heap.excluded_hits()};
  return result;
}

bool ExactScorer::UsesGather(const ScoringQuery& query) const {
  return query.allowed != nullptr &&
         static_cast<double>(query.allowed->count()) <
             kGatherFraction * static_cast<double>(items_->rows());
}

std::vector<ScoringResult> ExactScorer::TopKBatch(
    absl::Span<const ScoringQuery> queries) const {
  // Queries with a small allowed set are cheaper alone (gather scan).
  bool any_gather = false;
  for (const ScoringQuery& query : queries) any_gather |= UsesGather(query);
  if (any_gather) {
    std::vector<ScoringQuery> scan;
    std::vector<size_t> scan_pos;
    std::vector<ScoringResult> out(queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      if (UsesGather(queries[i])) {
        out[i] = TopK(queries[i]);
      } else {
        scan.push_back(queries[i]);
        scan_pos.push_back(i);
      }
    }
    if (!scan.empty()) {
      std::vector<ScoringResult> scanned = TopKBatch(scan);
      for (size_t j = 0; j < scan.size(); ++j) out[scan_pos[j]] = std::move(scanned[j]);
    }
    return out;
  }
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
    heaps.emplace_back(query.k, query.excluded, query.allowed);
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
    DotMulti(first, n, transposed.data(), width, scores.data());
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
  for (TopKHeap& heap : heaps) {
    const uint64_t not_allowed = heap.not_allowed();
    const uint64_t excluded_hits = heap.excluded_hits();
    out.push_back(ScoringResult{heap.Take(), m.rows(), not_allowed, excluded_hits});
  }
  return out;
}

}  // namespace affinity::server
