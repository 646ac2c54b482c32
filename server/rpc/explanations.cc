#include "server/rpc/explanations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity::server {
namespace {

// Looking at more history items than this costs more than it explains.
constexpr size_t kMaxHistoryForExplanation = 2000;

}  // namespace

std::string ExplainModelItem(const LoadedModel& model, uint32_t item, float score,
                             const std::vector<uint32_t>& history, bool folded_in) {
  std::string out = absl::StrFormat("model v%d score %.4f (%s user vector)", model.version,
                                    score, folded_in ? "folded-in" : "stored");
  int64_t best = -1;
  float best_cosine = -2;
  for (size_t i = 0; i < history.size() && i < kMaxHistoryForExplanation; ++i) {
    const float c = model.Cosine(item, history[i]);
    if (c > best_cosine) {
      best_cosine = c;
      best = history[i];
    }
  }
  if (best >= 0) {
    absl::StrAppend(&out, absl::StrFormat("; closest interacted item %s (cosine %.3f)",
                                          model.item_id(static_cast<uint32_t>(best)),
                                          best_cosine));
  }
  return out;
}

std::string ExplainSimilarItem(const LoadedModel& model, uint32_t query_item, float cosine) {
  return absl::StrFormat("cosine %.4f with %s (model v%d)", cosine,
                         model.item_id(query_item), model.version);
}

}  // namespace affinity::server
