#include "trainer/eval/paired_comparison.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "trainer/eval/moments.h"

namespace affinity {
namespace eval {
namespace {

constexpr absl::string_view kMetricNames =
    "precision_at_k, recall_at_k, ndcg_at_k, map_at_k, rmse or mae";

absl::Status UnknownMetric(absl::string_view metric) {
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown metric \"", metric, "\", expected one of ", kMetricNames));
}

}  // namespace

absl::StatusOr<PairedComparison> ComparePaired(absl::Span<const double> a,
                                               absl::Span<const double> b) {
  if (a.size() != b.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "paired comparison needs values of equal length, got ", a.size(),
        " and ", b.size()));
  }
  RunningMoments ma, mb, md;
  for (size_t i = 0; i < a.size(); ++i) {
    ma.Add(a[i]);
    mb.Add(b[i]);
    md.Add(a[i] - b[i]);
  }
  PairedComparison out;
  out.n = md.count();
  out.mean_a = ma.mean();
  out.mean_b = mb.mean();
  out.mean_difference = md.mean();
  out.ci95 = md.ci95();
  if (out.n < 2) return out;
  const double standard_error = md.sample_sd() / std::sqrt(static_cast<double>(out.n));
  if (standard_error > 0) {
    const double t = std::abs(out.mean_difference) / standard_error;
    out.p_value = std::erfc(t / std::sqrt(2.0));
  } else {
    out.p_value = out.mean_difference == 0 ? 1 : 0;
  }
  return out;
}

absl::StatusOr<MetricDirection> DirectionOf(absl::string_view metric) {
  if (metric == "precision_at_k" || metric == "recall_at_k" ||
      metric == "ndcg_at_k" || metric == "map_at_k") {
    return MetricDirection::kHigherIsBetter;
  }
  if (metric == "rmse" || metric == "mae") {
    return MetricDirection::kLowerIsBetter;
  }
  return UnknownMetric(metric);
}

absl::StatusOr<std::vector<double>> PerUserValues(const RankingMetrics& result,
                                                  absl::string_view metric) {
  double UserRankingMetrics::*field = nullptr;
  if (metric == "precision_at_k") {
    field = &UserRankingMetrics::precision;
  } else if (metric == "recall_at_k") {
    field = &UserRankingMetrics::recall;
  } else if (metric == "ndcg_at_k") {
    field = &UserRankingMetrics::ndcg;
  } else if (metric == "map_at_k") {
    field = &UserRankingMetrics::average_precision;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown per-user metric \"", metric,
        "\", expected precision_at_k, recall_at_k, ndcg_at_k or map_at_k"));
  }
  if (static_cast<int64_t>(result.per_user.size()) != result.users_evaluated) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the result holds ", result.per_user.size(), " per-user values for ",
        result.users_evaluated,
        " evaluated users; evaluate with EvalOptions.keep_per_user"));
  }
  std::vector<double> values;
  values.reserve(result.per_user.size());
  for (const UserRankingMetrics& user : result.per_user) {
    values.push_back(user.*field);
  }
  return values;
}

absl::StatusOr<PairedComparison> CompareRankings(const RankingMetrics& a,
                                                 const RankingMetrics& b,
                                                 absl::string_view metric) {
  absl::StatusOr<std::vector<double>> va = PerUserValues(a, metric);
  if (!va.ok()) return va.status();
  absl::StatusOr<std::vector<double>> vb = PerUserValues(b, metric);
  if (!vb.ok()) return vb.status();
  if (a.users != b.users) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the two results evaluated different users (", a.users.size(), " and ",
        b.users.size(),
        "); evaluate both with the same train, test and EvalOptions"));
  }
  return ComparePaired(*va, *vb);
}

absl::StatusOr<PairedComparison> CompareRatings(const RatingMetrics& a,
                                                const RatingMetrics& b,
                                                absl::string_view metric) {
  const std::vector<double> RatingMetrics::*errors = nullptr;
  if (metric == "rmse") {
    errors = &RatingMetrics::squared_errors;
  } else if (metric == "mae") {
    errors = &RatingMetrics::absolute_errors;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown rating metric \"", metric, "\", expected rmse or mae"));
  }
  for (const RatingMetrics* m : {&a, &b}) {
    if (static_cast<int64_t>((m->*errors).size()) != m->ratings_evaluated) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a result holds ", (m->*errors).size(), " errors for ",
          m->ratings_evaluated,
          " evaluated ratings; evaluate with RatingEvalOptions.keep_errors"));
    }
  }
  if (a.ratings_evaluated != b.ratings_evaluated) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the two results evaluated different ratings (", a.ratings_evaluated,
        " and ", b.ratings_evaluated, "); evaluate both on the same test matrix"));
  }
  return ComparePaired(a.*errors, b.*errors);
}

}  // namespace eval
}  // namespace affinity
