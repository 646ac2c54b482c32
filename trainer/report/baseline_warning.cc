#include "trainer/report/baseline_warning.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity {
namespace {

using RankingMetricsProto = affinity::v1::RankingMetrics;

struct MetricValue {
  double value = 0;
  double ci95 = 0;
};

// The metric called `name` ("precision", "recall", "ndcg" or "map") of m.
MetricValue Get(const RankingMetricsProto& m, const std::string& name) {
  if (name == "precision") return {m.precision_at_k(), m.precision_at_k_ci95()};
  if (name == "recall") return {m.recall_at_k(), m.recall_at_k_ci95()};
  if (name == "map") return {m.map_at_k(), m.map_at_k_ci95()};
  return {m.ndcg_at_k(), m.ndcg_at_k_ci95()};
}

// "ndcg" and k from "ndcg_at_10"; false for anything else.
bool ParseRankingMetric(const std::string& metric, std::string* name, int* k) {
  for (const char* candidate : {"precision", "recall", "ndcg", "map"}) {
    const std::string prefix = absl::StrCat(candidate, "_at_");
    if (absl::StartsWith(metric, prefix) &&
        absl::SimpleAtoi(metric.substr(prefix.size()), k) && *k > 0) {
      *name = candidate;
      return true;
    }
  }
  return false;
}

std::string MainMetricName(const affinity::v1::TrainingReport& report) {
  std::string name;
  int k = 0;
  if (ParseRankingMetric(report.gate().metric(), &name, &k) && k == report.k()) return name;
  return "ndcg";
}

}  // namespace

std::string MainRankingMetric(const affinity::v1::TrainingReport& report) {
  return absl::StrCat(MainMetricName(report), "@", report.k());
}

std::optional<std::string> MostPopularWarning(const affinity::v1::TrainingReport& report) {
  if (report.model().users_evaluated() <= 0 || report.popularity().users_evaluated() <= 0) {
    return std::nullopt;
  }
  const std::string name = MainMetricName(report);
  const MetricValue model = Get(report.model(), name);
  const MetricValue popular = Get(report.popularity(), name);
  if (model.value > popular.value) return std::nullopt;
  // A nightly run (its fingerprint is set from the start) trains a candidate.
  const bool nightly = !report.outcome().empty() || !report.fingerprint().empty();
  const char* const who = nightly ? "the candidate" : "the model";
  std::string intervals;
  if (model.ci95 > 0 && popular.ci95 > 0) {
    const bool overlap = model.value + model.ci95 >= popular.value - popular.ci95;
    intervals = absl::StrFormat(
        "; 95%% intervals ±%.4f and ±%.4f %s", model.ci95, popular.ci95,
        overlap ? "overlap (possibly noise: few users evaluated?)"
                : "do not overlap (a real shortfall)");
  }
  return absl::StrFormat(
      "%s does not beat the most-popular baseline on %s: %.4f vs %.4f%s. Check the input "
      "(duplicates, skipped rows, weights) and the parameters before trusting this model",
      who, MainRankingMetric(report), model.value, popular.value, intervals);
}

}  // namespace affinity
