#include "trainer/eval/popularity_eval.h"

#include <algorithm>
#include <memory>
#include <numeric>

#include "trainer/eval/ranking_evaluation.h"

namespace affinity {
namespace eval {
namespace {

class PopularityBlockRanker : public BlockRanker {
 public:
  PopularityBlockRanker(const std::vector<uint32_t>& order,
                        const CsrMatrix& train)
      : order_(order), train_(train) {}

  void RankBlock(absl::Span<const int64_t> users, int k,
                 std::vector<std::vector<uint32_t>>* ranked) override {
    for (size_t b = 0; b < users.size(); ++b) {
      absl::Span<const uint32_t> seen = train_.row(users[b]).indices;
      std::vector<uint32_t>& out = (*ranked)[b];
      out.clear();
      for (uint32_t item : order_) {
        if (static_cast<int>(out.size()) == k) break;
        if (!std::binary_search(seen.begin(), seen.end(), item)) {
          out.push_back(item);
        }
      }
    }
  }

 private:
  const std::vector<uint32_t>& order_;
  const CsrMatrix& train_;
};

}  // namespace

std::vector<uint32_t> PopularityOrder(const CsrMatrix& train) {
  std::vector<int64_t> users_per_item(train.cols(), 0);
  for (uint32_t item : train.indices()) ++users_per_item[item];
  std::vector<uint32_t> order(train.cols());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return users_per_item[a] > users_per_item[b];
  });
  return order;
}

absl::StatusOr<RankingMetrics> EvaluatePopularity(const CsrMatrix& train,
                                                  const CsrMatrix& test,
                                                  const EvalOptions& options) {
  const std::vector<uint32_t> order = PopularityOrder(train);
  return EvaluateRankings(train, test, options, [&]() {
    return std::make_unique<PopularityBlockRanker>(order, train);
  });
}

}  // namespace eval
}  // namespace affinity
