#include "trainer/nightly/gated_evaluation.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/baselines.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/metrics_proto.h"
#include "trainer/eval/metrics_table.h"
#include "trainer/eval/paired_comparison.h"
#include "trainer/eval/rating_metrics.h"

namespace affinity {
namespace {

void AddMetrics(const std::map<std::string, double>& values, std::map<std::string, double>* out) {
  out->insert(values.begin(), values.end());
}

absl::StatusOr<eval::RatingMetrics> Ratings(const ScoredModel& model, const CsrMatrix& test,
                                            int threads) {
  eval::RatingEvalOptions options;
  options.threads = threads;
  options.keep_errors = true;
  return eval::EvaluateRatings(*model.users, *model.items, test, options);
}

}  // namespace

std::string GenericMetricName(const std::string& metric, int k) {
  const std::string suffix = absl::StrCat("_at_", k);
  if (metric.size() > suffix.size() &&
      metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return metric.substr(0, metric.size() - suffix.size()) + "_at_k";
  }
  return metric;
}

absl::Status ValidateGateMetric(const std::string& metric, int k) {
  if (metric.empty()) return absl::OkStatus();
  if (!eval::DirectionOf(GenericMetricName(metric, k)).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--gate_metric: \"", metric, "\" is not a metric of the report, expected one of "
        "precision_at_", k, ", recall_at_", k, ", ndcg_at_", k, ", map_at_", k,
        ", rmse or mae"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GatedEvaluation> EvaluateAndGate(const GatedEvaluationInput& in,
                                                std::ostream& log,
                                                affinity::v1::TrainingReport* report) {
  GatedEvaluation out;
  const GateOptions& gate_options = in.gate;
  const std::string& metric = gate_options.metric;
  if (in.test->nnz() == 0) {
    out.gate = in.live.has_value()
                   ? NotComparableGate(
                         gate_options, in.live_version,
                         absl::StrCat("no held-out interactions to compare on (", in.comparison,
                                      "); --force publishes without a comparison"))
                   : FirstVersionGate(metric);
    log << DescribeGate(out.gate) << "\n";
    *report->mutable_gate() = out.gate;
    return out;
  }
  eval::EvalOptions options = in.eval_options;
  options.keep_per_user = true;
  const CsrMatrix& train = *in.train;
  const CsrMatrix& test = *in.test;
  auto candidate = eval::EvaluateFactorModel(*in.candidate.users, *in.candidate.items, train,
                                             test, options);
  if (!candidate.ok()) return candidate.status();
  std::optional<eval::RankingMetrics> live;
  if (in.live.has_value()) {
    auto m = eval::EvaluateFactorModel(*in.live->users, *in.live->items, train, test, options);
    if (!m.ok()) return m.status();
    live = *std::move(m);
  }
  std::optional<eval::RatingMetrics> candidate_ratings, live_ratings;
  if (in.candidate.predicts_ratings) {
    auto r = Ratings(in.candidate, test, options.threads);
    if (!r.ok()) return r.status();
    candidate_ratings = *std::move(r);
  }
  if (in.live.has_value() && in.live->predicts_ratings) {
    auto r = Ratings(*in.live, test, options.threads);
    if (!r.ok()) return r.status();
    live_ratings = *std::move(r);
  }
  auto baselines = EvaluateBaselines(train, test, options, in.puresvd, log);
  if (!baselines.ok()) return baselines.status();

  std::vector<eval::MetricsColumn> columns;
  columns.push_back({in.candidate.name, &*candidate,
                     candidate_ratings ? &*candidate_ratings : nullptr});
  if (live) columns.push_back({in.live->name, &*live, live_ratings ? &*live_ratings : nullptr});
  columns.push_back({"most-popular", &baselines->popularity, nullptr});
  if (baselines->puresvd) columns.push_back({"PureSVD", &*baselines->puresvd, nullptr});
  log << absl::StrFormat("held-out evaluation (%s, seed %d):\n",
                         options.max_users > 0
                             ? absl::StrCat("a sample of up to ", options.max_users, " users")
                             : std::string("all users"),
                         options.seed)
      << eval::FormatMetricsTable(columns);

  *report->mutable_model() = eval::ToRankingMetricsProto(*candidate);
  *report->mutable_popularity() = eval::ToRankingMetricsProto(baselines->popularity);
  AddMetrics(candidate->ToMap(), &out.metrics);
  AddMetrics(baselines->popularity.ToMap("popularity."), &out.metrics);
  if (baselines->puresvd) {
    *report->mutable_puresvd() = eval::ToRankingMetricsProto(*baselines->puresvd);
    AddMetrics(baselines->puresvd->ToMap("puresvd."), &out.metrics);
  }
  if (candidate_ratings) {
    *report->mutable_model_ratings() = eval::ToRatingMetricsProto(*candidate_ratings);
    AddMetrics(candidate_ratings->ToMap(), &out.metrics);
  }
  if (live) {
    *report->mutable_live() = eval::ToRankingMetricsProto(*live);
    report->set_live_version(static_cast<uint32_t>(in.live_version));
    AddMetrics(live->ToMap("live."), &out.metrics);
  }
  if (live_ratings) {
    *report->mutable_live_ratings() = eval::ToRatingMetricsProto(*live_ratings);
    AddMetrics(live_ratings->ToMap("live."), &out.metrics);
  }

  const bool rating_gate = LowerIsBetter(metric);
  if (!live) {
    out.gate = FirstVersionGate(metric);
  } else if (rating_gate && !(candidate_ratings && live_ratings)) {
    out.gate = NotComparableGate(
        gate_options, in.live_version,
        absl::StrCat(metric, " needs rating predictions from both models (explicit models)"));
  } else {
    absl::StatusOr<eval::PairedComparison> paired =
        rating_gate ? eval::CompareRatings(*candidate_ratings, *live_ratings, metric)
                    : eval::CompareRankings(*candidate, *live,
                                            GenericMetricName(metric, options.k));
    if (!paired.ok()) return paired.status();
    const std::map<std::string, double> cand_map =
        rating_gate ? candidate_ratings->ToMap() : candidate->ToMap();
    const std::map<std::string, double> live_map =
        rating_gate ? live_ratings->ToMap() : live->ToMap();
    MetricComparison c;
    c.lower_is_better = rating_gate;
    c.candidate = cand_map.at(metric);
    c.live = live_map.at(metric);
    c.difference = c.candidate - c.live;
    // The paired interval is over per-unit values: per-user metrics, or
    // squared errors for rmse (mapped onto the RMSE difference by the
    // delta method, d RMSE = d MSE / (2 RMSE)).
    const double scale = metric == "rmse" ? 1.0 / (2 * std::max(c.live, 1e-12)) : 1.0;
    c.ci_low = c.difference - paired->ci95 * scale;
    c.ci_high = c.difference + paired->ci95 * scale;
    c.compared = paired->n;
    out.gate = DecideGate(c, gate_options, in.live_version, in.comparison);
  }
  log << DescribeGate(out.gate) << "\n";
  *report->mutable_gate() = out.gate;
  return out;
}

}  // namespace affinity
