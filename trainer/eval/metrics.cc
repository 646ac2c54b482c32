#include "trainer/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace affinity {
namespace eval {
namespace {

double Discount(int rank) { return 1.0 / std::log2(rank + 2.0); }

}  // namespace

UserRankingMetrics ScoreUserRanking(absl::Span<const uint32_t> ranked,
                                    absl::Span<const uint32_t> held_out,
                                    int k) {
  UserRankingMetrics m;
  const int depth = std::min<int>(k, static_cast<int>(ranked.size()));
  double dcg = 0, precision_sum = 0;
  for (int i = 0; i < depth; ++i) {
    if (!std::binary_search(held_out.begin(), held_out.end(), ranked[i])) {
      continue;
    }
    ++m.hits;
    dcg += Discount(i);
    precision_sum += static_cast<double>(m.hits) / (i + 1);
  }
  const int ideal = static_cast<int>(
      std::min<int64_t>(k, static_cast<int64_t>(held_out.size())));
  double idcg = 0;
  for (int i = 0; i < ideal; ++i) idcg += Discount(i);
  m.precision = static_cast<double>(m.hits) / k;
  m.recall = static_cast<double>(m.hits) / held_out.size();
  m.ndcg = dcg / idcg;
  m.average_precision = precision_sum / ideal;
  return m;
}

void RankingMetricsSum::Add(const UserRankingMetrics& user) {
  ++users_;
  precision_ += user.precision;
  recall_ += user.recall;
  ndcg_ += user.ndcg;
  average_precision_ += user.average_precision;
  precision_moments_.Add(user.precision);
  recall_moments_.Add(user.recall);
  ndcg_moments_.Add(user.ndcg);
  average_precision_moments_.Add(user.average_precision);
}

RankingMetrics RankingMetricsSum::Finish(int k, int64_t covered_items,
                                         int64_t num_items) const {
  RankingMetrics r;
  r.k = k;
  r.users_evaluated = users_;
  if (users_ > 0) {
    const double n = static_cast<double>(users_);
    r.precision = precision_ / n;
    r.recall = recall_ / n;
    r.ndcg = ndcg_ / n;
    r.map = average_precision_ / n;
    r.precision_ci95 = precision_moments_.ci95();
    r.recall_ci95 = recall_moments_.ci95();
    r.ndcg_ci95 = ndcg_moments_.ci95();
    r.map_ci95 = average_precision_moments_.ci95();
  }
  if (num_items > 0) {
    r.coverage = static_cast<double>(covered_items) / num_items;
  }
  return r;
}

std::map<std::string, double> RankingMetrics::ToMap(
    absl::string_view prefix) const {
  const std::string at = absl::StrCat("_at_", k);
  const std::string ci = absl::StrCat(at, "_ci95");
  return {
      {absl::StrCat(prefix, "precision", at), precision},
      {absl::StrCat(prefix, "recall", at), recall},
      {absl::StrCat(prefix, "ndcg", at), ndcg},
      {absl::StrCat(prefix, "map", at), map},
      {absl::StrCat(prefix, "coverage", at), coverage},
      {absl::StrCat(prefix, "users_evaluated"),
       static_cast<double>(users_evaluated)},
      {absl::StrCat(prefix, "precision", ci), precision_ci95},
      {absl::StrCat(prefix, "recall", ci), recall_ci95},
      {absl::StrCat(prefix, "ndcg", ci), ndcg_ci95},
      {absl::StrCat(prefix, "map", ci), map_ci95},
  };
}

}  // namespace eval
}  // namespace affinity
