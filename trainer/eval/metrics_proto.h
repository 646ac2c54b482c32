// Conversion of evaluation metrics to the training report's
// affinity.v1.RankingMetrics and affinity.v1.RatingMetrics messages
// (proto/affinity/v1/training_report.proto), whose JSON form the trainer
// writes with --metrics_json. Per-user and per-rating values are not
// converted.
#ifndef AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_
#define AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_

#include "affinity/v1/training_report.pb.h"
#include "trainer/eval/metrics.h"
#include "trainer/eval/rating_metrics.h"

namespace affinity {
namespace eval {

// Copies every field but the per-user vectors, confidence half-widths
// included; k itself lives in TrainingReport.k.
v1::RankingMetrics ToRankingMetricsProto(const RankingMetrics& metrics);

// Copies every field but the per-rating errors.
v1::RatingMetrics ToRatingMetricsProto(const RatingMetrics& metrics);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_METRICS_PROTO_H_
