#include "trainer/eval/factor_model_eval.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "trainer/eval/ranking_evaluation.h"
#include "trainer/eval/top_k.h"

namespace affinity {
namespace eval {
namespace {

using ScoreMap = Eigen::Map<FactorMatrix>;

class FactorBlockRanker : public BlockRanker {
 public:
  FactorBlockRanker(const FactorMatrix& user_factors,
                    const FactorMatrix& item_factors, const CsrMatrix& train,
                    const EvalOptions& options)
      : user_factors_(user_factors),
        item_factors_(item_factors),
        train_(train),
        block_users_(options.user_block, user_factors.cols()),
        scores_(static_cast<size_t>(options.user_block) *
                std::min<int64_t>(options.item_tile, item_factors.rows())),
        item_tile_(options.item_tile) {
    selectors_.reserve(options.user_block);
    for (int b = 0; b < options.user_block; ++b) {
      selectors_.emplace_back(options.k);
    }
    excluded_.resize(options.user_block);
  }

  void RankBlock(absl::Span<const int64_t> users, int k,
                 std::vector<std::vector<uint32_t>>* ranked) override {
    const int64_t n = static_cast<int64_t>(users.size());
    for (int64_t b = 0; b < n; ++b) {
      block_users_.row(b) = user_factors_.row(users[b]);
      selectors_[b].Clear();
      excluded_[b] = train_.row(users[b]).indices;
    }
    const int64_t num_items = item_factors_.rows();
    for (int64_t first = 0; first < num_items; first += item_tile_) {
      const int64_t tile = std::min<int64_t>(item_tile_, num_items - first);
      ScoreMap scores(scores_.data(), n, tile);
      scores.noalias() = block_users_.topRows(n) *
                         item_factors_.middleRows(first, tile).transpose();
      for (int64_t b = 0; b < n; ++b) {
        selectors_[b].OfferRange(
            absl::MakeConstSpan(scores.row(b).data(), tile),
            static_cast<uint32_t>(first), &excluded_[b]);
      }
    }
    for (int64_t b = 0; b < n; ++b) selectors_[b].SortedItems(&(*ranked)[b]);
  }

 private:
  const FactorMatrix& user_factors_;
  const FactorMatrix& item_factors_;
  const CsrMatrix& train_;
  FactorMatrix block_users_;
  std::vector<float> scores_;
  const int64_t item_tile_;
  std::vector<TopKSelector> selectors_;
  std::vector<absl::Span<const uint32_t>> excluded_;
};

}  // namespace

absl::StatusOr<RankingMetrics> EvaluateFactorModel(
    const FactorMatrix& user_factors, const FactorMatrix& item_factors,
    const CsrMatrix& train, const CsrMatrix& test, const EvalOptions& options) {
  if (user_factors.rows() != train.rows()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user factors have ", user_factors.rows(),
        " rows, expected one per user of the interaction matrix (",
        train.rows(), ")"));
  }
  if (item_factors.rows() != train.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "item factors have ", item_factors.rows(),
        " rows, expected one per item of the interaction matrix (",
        train.cols(), ")"));
  }
  if (user_factors.cols() != item_factors.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user factors have ", user_factors.cols(), " columns but item factors ",
        item_factors.cols(), "; both must have the same dimension"));
  }
  return EvaluateRankings(train, test, options, [&]() {
    return std::make_unique<FactorBlockRanker>(user_factors, item_factors,
                                               train, options);
  });
}

}  // namespace eval
}  // namespace affinity
