#include "server/scoring/exact_scorer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "server/scoring/dot_kernels.h"

namespace affinity::server {
namespace {

// Below this fraction of allowed items, only the allowed rows are scored
// (gather scan) instead of the whole matrix.
constexpr double kGatherFraction = 0.05;

// Rows per block of a batch; their scores (rows x width floats) stay in L1/L2.
constexpr size_t kBatchBlockRows = 256;

// One query's k best over the ranges' selectors (each holding its range's k
// best): the k best overall, ties to the lower index as in one selection.
ScoringResult Merge(size_t k, const std::vector<TopKSelector*>& ranges, uint64_t items_scored) {
  std::vector<ScoredIndex> merged;
  uint64_t not_allowed = 0;
  uint64_t excluded_hits = 0;
  for (TopKSelector* range : ranges) {
    not_allowed += range->not_allowed();
    excluded_hits += range->excluded_hits();
    merged = MergeBestFirst(merged, range->Take(), k);
  }
  return ScoringResult{std::move(merged), items_scored, not_allowed, excluded_hits};
}

}  // namespace

ExactScorer::ExactScorer(std::shared_ptr<const ItemMatrix> items, ExactScorerOptions options)
    : items_(std::move(items)), options_(std::move(options)) {}

void ExactScorer::Dot(size_t first, size_t n, const float* query, float* out) const {
  const ItemMatrix& m = *items_;
  if (options_.row_scales == nullptr) {
    DotRows(m.row(first), n, m.stride(), query, out);
  } else {
    DotRowsScaled(m.row(first), n, m.stride(), query, options_.row_scales->data() + first, out);
  }
}

void ExactScorer::DotLanes(size_t first, size_t n, const float* query, float* out) const {
  const ItemMatrix& m = *items_;
  if (options_.row_scales == nullptr) {
    DotRowsLanes(m.row(first), n, m.stride(), m.dims(), query, out);
  } else {
    DotRowsLanesScaled(m.row(first), n, m.stride(), m.dims(),
                       options_.row_scales->data() + first, query, out);
  }
}

void ExactScorer::DotMulti(size_t first, size_t n, const float* transposed, size_t width,
                           float* out) const {
  const ItemMatrix& m = *items_;
  if (options_.row_scales == nullptr) {
    DotRowsMulti(m.row(first), n, m.stride(), m.dims(), transposed, width, out);
  } else {
    DotRowsMultiScaled(m.row(first), n, m.stride(), m.dims(),
                       options_.row_scales->data() + first, transposed, width, out);
  }
}

size_t ExactScorer::Parts() const {
  if (options_.pool == nullptr || options_.pool->parallelism() <= 1) return 1;
  const size_t by_size = items_->rows() / std::max<size_t>(1, options_.min_rows_per_part);
  return std::max<size_t>(
      1, std::min(static_cast<size_t>(options_.pool->parallelism()), by_size));
}

void ExactScorer::Range(size_t part, size_t parts, size_t* begin, size_t* end) const {
  // Whole blocks per range, as even as they come.
  const size_t rows = items_->rows();
  const size_t blocks = (rows + kBatchBlockRows - 1) / kBatchBlockRows;
  *begin = std::min(rows, blocks * part / parts * kBatchBlockRows);
  *end = std::min(rows, blocks * (part + 1) / parts * kBatchBlockRows);
}

void ExactScorer::ScanRangeMulti(const float* lone, const float* transposed, size_t width,
                                 size_t begin, size_t end, std::vector<TopKSelector>* selectors) const {
  const size_t nq = selectors->size();
  if (nq == 1) {
    float scores[kBatchBlockRows];
    TopKSelector& selector = selectors->front();
    for (size_t first = begin; first < end; first += kBatchBlockRows) {
      const size_t n = std::min(kBatchBlockRows, end - first);
      DotLanes(first, n, lone, scores);
      selector.PushBlock(static_cast<uint32_t>(first), scores, n);
    }
    return;
  }
  std::vector<float> scores(kBatchBlockRows * width);
  // Each query's entry threshold, side by side, so one vector compare per
  // row tells whether any query wants the item (+inf for padding lanes).
  std::vector<float> thresholds(width, std::numeric_limits<float>::infinity());
  for (size_t q = 0; q < nq; ++q) thresholds[q] = (*selectors)[q].threshold();
  // Per row, which queries' thresholds its scores reach: only those push.
  std::vector<uint64_t> wanted((width + 63) / 64);
  for (size_t first = begin; first < end; first += kBatchBlockRows) {
    const size_t n = std::min(kBatchBlockRows, end - first);
    DotMulti(first, n, transposed, width, scores.data());
    for (size_t i = 0; i < n; ++i) {
      const float* row_scores = scores.data() + i * width;
      const uint32_t index = static_cast<uint32_t>(first + i);
      if (!AtLeastMasks(row_scores, thresholds.data(), width, wanted.data())) continue;
      for (size_t w = 0; w < wanted.size(); ++w) {
        for (uint64_t bits = wanted[w]; bits != 0; bits &= bits - 1) {
          const size_t q = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
          if (q >= nq) break;  // a padding lane (its threshold is +inf)
          TopKSelector& selector = (*selectors)[q];
          selector.Push(index, row_scores[q]);
          thresholds[q] = selector.threshold();
        }
      }
    }
  }
}

ScoringResult ExactScorer::TopK(const ScoringQuery& query) const {
  if (UsesGather(query)) {
    const ItemMatrix& m = *items_;
    const std::vector<float> q = m.PadQuery(query.vector);
    TopKSelector selector(query.k, query.excluded, query.allowed, query.also_allowed);
    uint64_t scored = 0;
    query.allowed->ForEach([&](uint32_t index) {
      if (index >= m.rows()) return;
      float score;
      Dot(index, 1, q.data(), &score);
      ++scored;
      selector.Push(index, score);
    });
    const uint64_t not_allowed = selector.not_allowed();
    const uint64_t excluded_hits = selector.excluded_hits();
    return ScoringResult{selector.Take(), scored, not_allowed, excluded_hits};
  }
  // As a batch of one (DotRowsLanes: the scores it would get in a batch).
  return TopKBatch(absl::MakeConstSpan(&query, 1))[0];
}

bool ExactScorer::UsesGather(const ScoringQuery& query) const {
  return query.allowed != nullptr && UsesGather(*query.allowed);
}

bool ExactScorer::UsesGather(const ItemBitmap& allowed) const {
  return static_cast<double>(allowed.count()) <
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
  padded.reserve(nq);
  for (const ScoringQuery& query : queries) {
    padded.push_back(m.PadQuery(query.vector));
    qptr.push_back(padded.back().data());
  }
  const size_t width = MultiQueryWidth(nq);
  std::vector<float> transposed(m.dims() * width);
  TransposeQueries(qptr.data(), nq, m.dims(), transposed.data());

  // selectors[part][query]
  const size_t parts = Parts();
  std::vector<std::vector<TopKSelector>> selectors(parts);
  for (std::vector<TopKSelector>& part : selectors) {
    part.reserve(nq);
    for (const ScoringQuery& query : queries) {
      part.emplace_back(query.k, query.excluded, query.allowed, query.also_allowed);
    }
  }
  auto scan = [&](size_t part) {
    size_t begin, end;
    Range(part, parts, &begin, &end);
    ScanRangeMulti(padded.front().data(), transposed.data(), width, begin, end, &selectors[part]);
  };
  if (parts == 1) {
    scan(0);
  } else {
    options_.pool->Run(parts, scan);
  }
  std::vector<ScoringResult> out;
  out.reserve(nq);
  std::vector<TopKSelector*> ranges(parts);
  for (size_t q = 0; q < nq; ++q) {
    for (size_t p = 0; p < parts; ++p) ranges[p] = &selectors[p][q];
    out.push_back(Merge(queries[q].k, ranges, m.rows()));
  }
  return out;
}

}  // namespace affinity::server
