// Fits PureSVD on an interactions file and evaluates it beside the
// most-popular baseline on a seeded random per-user holdout; prints the fit
// seconds, the peak RSS, the metrics at k with their 95% intervals side by
// side, and the paired difference in ndcg@k.
//
//   bazel-bin/trainer/eval/pure_svd_bench --input=u.data --format=movielens \
//       [--factors=64] [--holdout=0.2] [--seed=1] [--k=10] [--threads=2]
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/data/holdout.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/metrics_table.h"
#include "trainer/eval/paired_comparison.h"
#include "trainer/eval/popularity_eval.h"
#include "trainer/eval/pure_svd.h"
#include "trainer/report/peak_memory.h"

ABSL_FLAG(std::string, input, "", "interactions file (required)");
ABSL_FLAG(std::string, format, "auto", "csv, tsv, whitespace, movielens, auto");
ABSL_FLAG(int, factors, 64, "PureSVD rank f");
ABSL_FLAG(double, holdout, 0.2, "fraction of each user's interactions held out");
ABSL_FLAG(uint64_t, seed, 1, "holdout seed");
ABSL_FLAG(int, k, 10, "list length");
ABSL_FLAG(int, threads, 2, "evaluation threads");

namespace {

int Fail(const absl::Status& status) {
  std::cerr << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input.empty()) {
    std::cerr << "--input is required\n";
    return 2;
  }
  absl::StatusOr<affinity::InteractionFormat> format =
      affinity::ParseInteractionFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) return Fail(format.status());
  affinity::InteractionReaderOptions read_options;
  read_options.format = *format;
  absl::StatusOr<affinity::Interactions> data =
      affinity::ReadInteractions(input, read_options);
  if (!data.ok()) return Fail(data.status());

  affinity::HoldoutOptions holdout;
  holdout.test_fraction = absl::GetFlag(FLAGS_holdout);
  holdout.seed = absl::GetFlag(FLAGS_seed);
  absl::StatusOr<affinity::HoldoutSplit> split =
      affinity::SplitHoldout(data->matrix, {}, holdout);
  if (!split.ok()) return Fail(split.status());
  data->matrix = affinity::CsrMatrix();
  std::cout << absl::StrFormat(
      "%s: %d users x %d items, train nnz %d, held out %d (random %.2f, "
      "seed %d)\n",
      input, split->train.rows(), split->train.cols(), split->train.nnz(),
      split->test.nnz(), holdout.test_fraction, holdout.seed);

  affinity::eval::PureSvdOptions svd_options;
  svd_options.factors = absl::GetFlag(FLAGS_factors);
  absl::StatusOr<affinity::eval::PureSvdFactors> fit =
      affinity::eval::FitPureSvd(split->train, svd_options);
  if (!fit.ok()) return Fail(fit.status());
  std::cout << absl::StrFormat(
      "PureSVD f=%d: fit %.2f s, sigma_1 %.4g, sigma_f %.4g, peak RSS %.1f MB\n",
      fit->factors, fit->seconds, fit->singular_values.front(),
      fit->singular_values.back(), affinity::PeakResidentBytes() / 1e6);

  affinity::eval::EvalOptions eval;
  eval.k = absl::GetFlag(FLAGS_k);
  eval.threads = absl::GetFlag(FLAGS_threads);
  eval.keep_per_user = true;
  absl::Time start = absl::Now();
  absl::StatusOr<affinity::eval::RankingMetrics> svd_metrics =
      affinity::eval::EvaluateFactorModel(fit->users, fit->items, split->train,
                                          split->test, eval);
  if (!svd_metrics.ok()) return Fail(svd_metrics.status());
  const double svd_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  start = absl::Now();
  absl::StatusOr<affinity::eval::RankingMetrics> popular =
      affinity::eval::EvaluatePopularity(split->train, split->test, eval);
  if (!popular.ok()) return Fail(popular.status());
  std::cout << absl::StrFormat(
      "evaluated in %.2f s (PureSVD), %.2f s (most-popular)\n\n", svd_seconds,
      absl::ToDoubleSeconds(absl::Now() - start));
  std::cout << affinity::eval::FormatMetricsTable(
      {{"PureSVD", &*svd_metrics, nullptr},
       {"most-popular", &*popular, nullptr}});
  absl::StatusOr<affinity::eval::PairedComparison> diff =
      affinity::eval::CompareRankings(*svd_metrics, *popular, "ndcg_at_k");
  if (!diff.ok()) return Fail(diff.status());
  std::cout << absl::StrFormat(
      "\nPureSVD - most-popular, ndcg@%d: %+.4f ±%.4f (p = %.3g, %d users)\n",
      eval.k, diff->mean_difference, diff->ci95, diff->p_value, diff->n);
  std::cout << absl::StrFormat("peak RSS %.1f MB\n",
                               affinity::PeakResidentBytes() / 1e6);
  return 0;
}
