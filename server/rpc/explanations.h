// Human-readable explanations attached to returned items when a request
// sets `explain`: what touched each item.
#ifndef AFFINITY_SERVER_RPC_EXPLANATIONS_H_
#define AFFINITY_SERVER_RPC_EXPLANATIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/lifecycle/loaded_model.h"

namespace affinity::server {

// For an item ranked by the model: its score source and, when the user has
// interactions, the interacted item most similar to it (cosine).
std::string ExplainModelItem(const LoadedModel& model, uint32_t item, float score,
                             const std::vector<uint32_t>& history, bool folded_in);

// For an item returned by SimilarItems.
std::string ExplainSimilarItem(const LoadedModel& model, uint32_t query_item, float cosine);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_EXPLANATIONS_H_
