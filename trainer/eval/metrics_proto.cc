#include "trainer/eval/metrics_proto.h"

namespace affinity {
namespace eval {

v1::RankingMetrics ToRankingMetricsProto(const RankingMetrics& metrics) {
  v1::RankingMetrics proto;
  proto.set_precision_at_k(metrics.precision);
  proto.set_recall_at_k(metrics.recall);
  proto.set_ndcg_at_k(metrics.ndcg);
  proto.set_map_at_k(metrics.map);
  proto.set_coverage_at_k(metrics.coverage);
  proto.set_users_evaluated(static_cast<double>(metrics.users_evaluated));
  proto.set_precision_at_k_ci95(metrics.precision_ci95);
  proto.set_recall_at_k_ci95(metrics.recall_ci95);
  proto.set_ndcg_at_k_ci95(metrics.ndcg_ci95);
  proto.set_map_at_k_ci95(metrics.map_ci95);
  return proto;
}

v1::RatingMetrics ToRatingMetricsProto(const RatingMetrics& metrics) {
  v1::RatingMetrics proto;
  proto.set_rmse(metrics.rmse);
  proto.set_mae(metrics.mae);
  proto.set_rmse_ci95(metrics.rmse_ci95);
  proto.set_mae_ci95(metrics.mae_ci95);
  proto.set_ratings_evaluated(static_cast<double>(metrics.ratings_evaluated));
  return proto;
}

}  // namespace eval
}  // namespace affinity
