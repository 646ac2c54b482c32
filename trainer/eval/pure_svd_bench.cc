// Fits PureSVD on an interactions file and evaluates it beside the
// most-popular baseline on a seeded random per-user holdout; prints the
// solver and fit seconds, the peak RSS, the metrics at k with their 95%
// intervals side by side, and the paired difference in ndcg@k. With
// --compare_svds it also fits the svds reference and prints the agreement
// of the two fits (singular values, principal angles between the item
// subspaces, paired ndcg difference).
//
//   bazel-bin/trainer/eval/pure_svd_bench --input=u.data --format=movielens
//   flags: --factors=64 --solver=randomized (or svds) --oversampling=64
//   --power_iterations=5 --svd_threads=0 --compare_svds=false --holdout=0.2
//   --seed=1 --k=10 --threads=2 --max_users=0 (defaults; svd_threads 0 = one
//   per hardware thread, max_users 0 = every user with held-out items)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <Eigen/Dense>

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
ABSL_FLAG(std::string, solver, "randomized", "PureSVD solver: randomized or svds");
ABSL_FLAG(int, oversampling, 64, "randomized: basis columns beyond f");
ABSL_FLAG(int, power_iterations, 5, "randomized: power iterations q");
ABSL_FLAG(int, svd_threads, 0, "PureSVD fit threads (0 = hardware threads)");
ABSL_FLAG(bool, compare_svds, false,
          "also fit the svds reference and print the agreement");
ABSL_FLAG(double, holdout, 0.2, "fraction of each user's interactions held out");
ABSL_FLAG(uint64_t, seed, 1, "holdout seed");
ABSL_FLAG(int, k, 10, "list length");
ABSL_FLAG(int, threads, 2, "evaluation threads");
ABSL_FLAG(int64_t, max_users, 0,
          "evaluate a seeded sample of at most this many users (0 = all)");

namespace {

int Fail(const absl::Status& status) {
  std::cerr << status << "\n";
  return 1;
}

void PrintFit(const affinity::eval::PureSvdFactors& fit,
              const affinity::eval::PureSvdOptions& options) {
  std::cout << absl::StrFormat(
      "PureSVD f=%d solver=%s%s: fit %.2f s, sigma_1 %.6g, sigma_f %.6g, peak "
      "RSS %.1f MB\n",
      fit.factors, affinity::eval::PureSvdSolverName(fit.solver),
      fit.solver == affinity::eval::PureSvdSolver::kRandomized
          ? absl::StrFormat(" (oversampling %d, q %d, threads %d)",
                            options.oversampling, options.power_iterations,
                            options.threads)
          : std::string(),
      fit.seconds, fit.singular_values.front(), fit.singular_values.back(),
      affinity::PeakResidentBytes() / 1e6);
}

// Singular values and item subspaces of two fits of the same rank.
void PrintAgreement(const affinity::eval::PureSvdFactors& fit,
                    const affinity::eval::PureSvdFactors& reference) {
  double worst = 0;
  int worst_at = 0;
  for (int c = 0; c < fit.factors; ++c) {
    const double error =
        std::abs(fit.singular_values[c] - reference.singular_values[c]) /
        reference.singular_values[c];
    if (error > worst) {
      worst = error;
      worst_at = c;
    }
  }
  // Cosines of the principal angles between span(V) and span(V_ref).
  const Eigen::MatrixXd overlap = fit.items.cast<double>().transpose() *
                                  reference.items.cast<double>();
  const Eigen::VectorXd cosines =
      Eigen::JacobiSVD<Eigen::MatrixXd>(overlap).singularValues();
  std::cout << absl::StrFormat(
      "agreement with svds: sigma_f relative error %.2e, largest %.2e (at "
      "%d); principal angles between item subspaces: mean cos^2 %.6f, "
      "smallest cos %.4f\n",
      std::abs(fit.singular_values.back() - reference.singular_values.back()) /
          reference.singular_values.back(),
      worst, worst_at + 1, cosines.squaredNorm() / cosines.size(),
      cosines.minCoeff());
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
  const std::string solver = absl::GetFlag(FLAGS_solver);
  if (solver == "svds") {
    svd_options.solver = affinity::eval::PureSvdSolver::kSvds;
  } else if (solver != "randomized") {
    std::cerr << "--solver: got \"" << solver
              << "\", expected randomized or svds\n";
    return 2;
  }
  svd_options.oversampling = absl::GetFlag(FLAGS_oversampling);
  svd_options.power_iterations = absl::GetFlag(FLAGS_power_iterations);
  svd_options.threads = absl::GetFlag(FLAGS_svd_threads);
  absl::StatusOr<affinity::eval::PureSvdFactors> fit =
      affinity::eval::FitPureSvd(split->train, svd_options);
  if (!fit.ok()) return Fail(fit.status());
  PrintFit(*fit, svd_options);
  absl::StatusOr<affinity::eval::PureSvdFactors> reference;
  const bool compare = absl::GetFlag(FLAGS_compare_svds) &&
                       fit->solver != affinity::eval::PureSvdSolver::kSvds;
  if (compare) {
    affinity::eval::PureSvdOptions reference_options = svd_options;
    reference_options.solver = affinity::eval::PureSvdSolver::kSvds;
    reference = affinity::eval::FitPureSvd(split->train, reference_options);
    if (!reference.ok()) return Fail(reference.status());
    PrintFit(*reference, reference_options);
    PrintAgreement(*fit, *reference);
  }

  affinity::eval::EvalOptions eval;
  eval.k = absl::GetFlag(FLAGS_k);
  eval.threads = absl::GetFlag(FLAGS_threads);
  eval.max_users = absl::GetFlag(FLAGS_max_users);
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
  absl::StatusOr<affinity::eval::RankingMetrics> reference_metrics;
  std::vector<affinity::eval::MetricsColumn> columns = {
      {absl::StrFormat("PureSVD (%s)", affinity::eval::PureSvdSolverName(
                                           fit->solver)),
       &*svd_metrics, nullptr}};
  if (compare) {
    reference_metrics = affinity::eval::EvaluateFactorModel(
        reference->users, reference->items, split->train, split->test, eval);
    if (!reference_metrics.ok()) return Fail(reference_metrics.status());
    columns.push_back({"PureSVD (svds)", &*reference_metrics, nullptr});
  }
  columns.push_back({"most-popular", &*popular, nullptr});
  std::cout << affinity::eval::FormatMetricsTable(columns);
  absl::StatusOr<affinity::eval::PairedComparison> diff =
      affinity::eval::CompareRankings(*svd_metrics, *popular, "ndcg_at_k");
  if (!diff.ok()) return Fail(diff.status());
  std::cout << absl::StrFormat(
      "\nPureSVD - most-popular, ndcg@%d: %+.4f ±%.4f (p = %.3g, %d users)\n",
      eval.k, diff->mean_difference, diff->ci95, diff->p_value, diff->n);
  if (compare) {
    absl::StatusOr<affinity::eval::PairedComparison> solvers =
        affinity::eval::CompareRankings(*svd_metrics, *reference_metrics,
                                        "ndcg_at_k");
    if (!solvers.ok()) return Fail(solvers.status());
    std::cout << absl::StrFormat(
        "PureSVD %s - svds, ndcg@%d: %+.5f ±%.5f (p = %.3g, %d users)\n",
        affinity::eval::PureSvdSolverName(fit->solver), eval.k,
        solvers->mean_difference, solvers->ci95, solvers->p_value,
        solvers->n);
  }
  std::cout << absl::StrFormat("peak RSS %.1f MB\n",
                               affinity::PeakResidentBytes() / 1e6);
  return 0;
}
