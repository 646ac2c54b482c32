// Conversion of evaluation metrics to the training report's
// affinity.v1.RankingMetrics message (proto/affinity/v1/training_report.proto),
// whose JSON form the trainer writes with --metrics_json.
#ifndef AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_
#define AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_

#include "affinity/v1/training_report.pb.h"
#include "trainer/eval/metrics.h"

namespace affinity {
namespace eval {

// Copies every field; k itself lives in TrainingReport.k.
v1::RankingMetrics ToRankingMetricsProto(const RankingMetrics& metrics);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_
