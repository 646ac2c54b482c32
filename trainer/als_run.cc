#include "trainer/als_run.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/metrics_proto.h"

namespace affinity {

std::string AlgorithmName(AlsSolver solver) {
  switch (solver) {
    case AlsSolver::kConjugateGradient: return "implicit_als_cg";
    case AlsSolver::kCholesky: return "implicit_als_cholesky";
    case AlsSolver::kExplicit: return "explicit_als";
  }
  return "unknown";
}

std::string WeightTransformName(WeightTransform t) {
  switch (t) {
    case WeightTransform::kRaw: return "raw";
    case WeightTransform::kLog1p: return "log1p";
    case WeightTransform::kBinary: return "binary";
  }
  return "unknown";
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

ScoringFactors::ScoringFactors(const AlsTrainer& trainer)
    : folded_(trainer.options().solver == AlsSolver::kExplicit
                  ? std::make_unique<FoldedFactors>(trainer.Folded())
                  : nullptr),
      users_(folded_ ? folded_->users : trainer.user_factors()),
      items_(folded_ ? folded_->items : trainer.item_factors()) {}

absl::StatusOr<AlsRun> TrainAls(const CsrMatrix& train, const CsrMatrix* progress_test,
                                const AlsOptions& options,
                                const eval::EvalOptions& progress, const std::string& label,
                                std::ostream& log, affinity::v1::TrainingReport* report) {
  auto created = CreateAlsTrainer(options);
  if (!created.ok()) return created.status();
  AlsRun run;
  run.trainer = *std::move(created);
  if (absl::Status s = run.trainer->Init(train); !s.ok()) return s;
  const bool show_progress = progress_test != nullptr && progress.max_users > 0;
  const int iterations = options.iterations;
  log << absl::StrFormat("%s %s: %d factors, %d iterations, %d threads, %d interactions\n",
                         label, AlgorithmName(options.solver), options.factors, iterations,
                         options.threads, train.nnz());
  for (int it = 1; it <= iterations; ++it) {
    auto step = run.trainer->RunIteration();
    if (!step.ok()) return step.status();
    run.iteration_seconds.push_back(step->seconds);
    affinity::v1::IterationReport* row = report ? report->add_iterations() : nullptr;
    if (row) {
      row->set_iteration(it);
      row->set_seconds(step->seconds);
      row->set_loss(step->loss);
      row->set_failed_solves(static_cast<double>(step->failed_solves));
    }
    std::string line = absl::StrFormat("%s iteration %2d/%d  %7.3f s  loss %.6g", label, it,
                                       iterations, step->seconds, step->loss);
    if (step->failed_solves > 0) {
      absl::StrAppendFormat(&line, "  %d rows failed to solve (kept their previous vectors)",
                            step->failed_solves);
    }
    if (show_progress) {
      ScoringFactors factors(*run.trainer);
      auto sampled = eval::EvaluateFactorModel(factors.users(), factors.items(), train,
                                               *progress_test, progress);
      if (!sampled.ok()) return sampled.status();
      if (row) *row->mutable_sampled() = eval::ToRankingMetricsProto(*sampled);
      absl::StrAppendFormat(&line, "  p@%d %.4f  ndcg@%d %.4f (%d sampled users)", progress.k,
                            sampled->precision, progress.k, sampled->ndcg,
                            sampled->users_evaluated);
    }
    absl::StrAppendFormat(&line, "  ETA %.1f s\n",
                          Median(run.iteration_seconds) * (iterations - it));
    log << line << std::flush;
  }
  for (double s : run.iteration_seconds) run.train_seconds += s;
  log << absl::StrFormat("%s done in %.2f s, %.3f s/iteration (median)\n", label,
                         run.train_seconds, Median(run.iteration_seconds))
      << std::flush;
  return run;
}

}  // namespace affinity
