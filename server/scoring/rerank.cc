#include "server/scoring/rerank.h"

#include <algorithm>
#include <limits>

#include "server/scoring/dot_kernels.h"

namespace affinity::server {

size_t CandidateCount(size_t k, size_t candidate_factor, size_t rows) {
  if (k > std::numeric_limits<size_t>::max() / candidate_factor) return rows;
  return std::min(k * candidate_factor, std::max(rows, k));
}

std::vector<ScoredIndex> RerankExactly(const ItemMatrix& items,
                                       const std::vector<float>& padded_query,
                                       const std::vector<ScoredIndex>& candidates, size_t k) {
  if (candidates.empty()) return {};
  std::vector<uint32_t> indices(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) indices[i] = candidates[i].index;
  std::vector<float> scores(candidates.size());
  DotRowsLanesGather(items.data(), items.stride(), indices.data(), indices.size(), items.dims(),
                     padded_query.data(), scores.data());
  TopKSelector selector(k, nullptr);
  for (size_t i = 0; i < candidates.size(); ++i) selector.Push(candidates[i].index, scores[i]);
  return selector.Take();
}

}  // namespace affinity::server
