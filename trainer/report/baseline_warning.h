// The warning a run deserves when its model does not beat the most-popular
// baseline on the main ranking metric: a model that loses to a bestseller
// list should not go unnoticed, whatever else the run says. Pure function
// of the report; thread-safe.
#ifndef AFFINITY_TRAINER_REPORT_BASELINE_WARNING_H_
#define AFFINITY_TRAINER_REPORT_BASELINE_WARNING_H_

#include <optional>
#include <string>

#include "affinity/v1/training_report.pb.h"

namespace affinity {

// The main metric's name as the report shows it, e.g. "ndcg@10": the
// nightly gate's metric when it is a ranking metric (precision_at_K,
// recall_at_K, ndcg_at_K, map_at_K), else ndcg at the report's k.
std::string MainRankingMetric(const affinity::v1::TrainingReport& report);

// When the model (the candidate, in a nightly run) was evaluated and its main metric is not
// above most-popular's (ties included), one sentence saying so with both
// values and their 95% half-widths, and whether the intervals overlap;
// nullopt otherwise (no evaluation, or the model is ahead).
std::optional<std::string> MostPopularWarning(const affinity::v1::TrainingReport& report);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_BASELINE_WARNING_H_
