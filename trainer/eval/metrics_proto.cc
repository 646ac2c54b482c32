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
  return proto;
}

}  // namespace eval
}  // namespace affinity
