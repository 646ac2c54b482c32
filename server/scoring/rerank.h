// What the compact scans (the int8 and IVF scorers) share: how many
// candidates they keep, and their exact re-rank: each candidate's float32
// score read in place from the float matrix with the exact scorer's own
// arithmetic (DotRowsLanesGather, a DotRowsMulti lane's), then the k best,
// ties to the lower index. So the returned order and scores equal
// ExactScorer's bit for bit whenever the true top k are among the
// candidates. Stateless; thread-safe.
#ifndef AFFINITY_SERVER_SCORING_RERANK_H_
#define AFFINITY_SERVER_SCORING_RERANK_H_

#include <cstddef>
#include <vector>

#include "server/scoring/item_matrix.h"
#include "server/scoring/top_k.h"

namespace affinity::server {

// Candidates a compact scan keeps for k answers: k * candidate_factor
// (factor >= 1), at most the catalog's rows (but never fewer than k), and
// every row when the product overflows.
size_t CandidateCount(size_t k, size_t candidate_factor, size_t rows);

// `padded_query`: ItemMatrix::PadQuery's. Candidates' scores are ignored.
std::vector<ScoredIndex> RerankExactly(const ItemMatrix& items,
                                       const std::vector<float>& padded_query,
                                       const std::vector<ScoredIndex>& candidates, size_t k);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_RERANK_H_
