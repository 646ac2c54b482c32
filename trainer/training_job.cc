#include "trainer/training_job.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/als_run.h"
#include "trainer/baselines.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/metrics_proto.h"
#include "trainer/eval/metrics_table.h"
#include "trainer/eval/popularity_eval.h"
#include "trainer/eval/rating_metrics.h"
#include "trainer/model_publisher.h"
#include "trainer/report/baseline_warning.h"
#include "trainer/report/peak_memory.h"
#include "trainer/training_outputs.h"

namespace affinity {
namespace {

// Bytes of an item-major copy of `m` (the solver's transpose).
int64_t TransposeBytes(const CsrMatrix& m) {
  return m.nnz() * static_cast<int64_t>(sizeof(uint32_t) + sizeof(float)) +
         (m.cols() + 1) * static_cast<int64_t>(sizeof(int64_t));
}

int64_t FactorBytes(const FactorMatrix& m) {
  return m.size() * static_cast<int64_t>(sizeof(float));
}

}  // namespace

absl::StatusOr<affinity::v1::TrainingReport> RunTrainingJob(
    const TrainingJobConfig& config, std::ostream& log) {
  affinity::v1::TrainingReport report;
  StampRunStart(&report);
  report.set_k(config.k);
  report.set_algorithm(AlgorithmName(config.als.solver));
  for (const auto& [name, value] : config.parameters) {
    (*report.mutable_parameters())[name] = value;
  }
  if (absl::Status s = ValidateOptions(config.als); !s.ok()) return s;
  if (absl::Status s = CheckOutputPaths(config); !s.ok()) return s;
  if (config.publish) {
    if (absl::Status s = CheckPublishTarget(config.db); !s.ok()) return s;
  }

  // 1. Interactions, streamed into a user-major CSR.
  auto read = ReadInteractions(config.input, config.reader);
  if (!read.ok()) return read.status();
  Interactions data = *std::move(read);
  const InteractionStats& stats = data.stats;
  LogIngest(config, data, log, &report);
  // Each step's lines are flushed as it ends: a redirected log of a run
  // that is killed, or hangs, shows how far it got.
  log.flush();
  if (config.publish) {
    if (absl::Status s = CheckModelSize(data.user_ids.size(), data.item_ids.size()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(config.input, ": ", s.message()));
    }
  }

  // 2. Holdout.
  const bool evaluate = config.holdout.test_fraction > 0;
  CsrMatrix train, test;
  if (evaluate) {
    auto split = SplitHoldout(data.matrix, data.timestamps, config.holdout);
    if (!split.ok()) return split.status();
    train = std::move(split->train);
    test = std::move(split->test);
    log << absl::StrFormat("holdout: %d training and %d held-out interactions\n",
                           train.nnz(), test.nnz())
        << std::flush;
  } else {
    train = std::move(data.matrix);
  }
  data.matrix = CsrMatrix();
  data.timestamps = std::vector<int64_t>();
  report.set_nnz(train.nnz());
  report.set_heldout_nnz(test.nnz());

  // 3. Training, one line per iteration.
  eval::EvalOptions progress_eval;
  progress_eval.k = config.k;
  progress_eval.threads = config.als.threads;
  progress_eval.max_users = config.progress_eval_users;
  progress_eval.seed = config.holdout.seed;
  auto run = TrainAls(train, evaluate ? &test : nullptr, config.als, progress_eval, "training",
                      log, &report);
  if (!run.ok()) return run.status();
  std::unique_ptr<AlsTrainer> trainer = std::move(run->trainer);
  report.set_seconds_per_iteration(Median(run->iteration_seconds));
  report.set_train_seconds(run->train_seconds);

  // 4. Evaluation beside the most-popular and PureSVD baselines, on a
  // seeded sample of --eval_users users.
  ScoringFactors factors(*trainer);
  affinity::v1::ModelMetadata metadata;
  // Present (zero) in the JSON even when nothing is evaluated.
  report.mutable_model();
  report.mutable_popularity();
  if (evaluate) {
    eval::EvalOptions sample = progress_eval;
    sample.max_users = config.eval_users;
    const absl::Time start = absl::Now();
    auto model_metrics = eval::EvaluateFactorModel(factors.users(), factors.items(),
                                                   train, test, sample);
    if (!model_metrics.ok()) return model_metrics.status();
    auto baselines = EvaluateBaselines(train, test, sample, config.puresvd, log);
    if (!baselines.ok()) return baselines.status();
    std::optional<eval::RatingMetrics> ratings;
    if (config.als.solver == AlsSolver::kExplicit) {
      eval::RatingEvalOptions rating_options;
      rating_options.threads = config.als.threads;
      auto r = eval::EvaluateRatings(factors.users(), factors.items(), test, rating_options);
      if (!r.ok()) return r.status();
      ratings = *std::move(r);
    }
    std::vector<eval::MetricsColumn> columns = {
        {"model", &*model_metrics, ratings ? &*ratings : nullptr},
        {"most-popular", &baselines->popularity, nullptr}};
    if (baselines->puresvd) columns.push_back({"PureSVD", &*baselines->puresvd, nullptr});
    log << absl::StrFormat("holdout evaluation (%.1f s, %s users sampled):\n",
                           absl::ToDoubleSeconds(absl::Now() - start),
                           config.eval_users > 0 ? absl::StrCat(config.eval_users) : "all")
        << eval::FormatMetricsTable(columns) << std::flush;
    *report.mutable_model() = eval::ToRankingMetricsProto(*model_metrics);
    *report.mutable_popularity() = eval::ToRankingMetricsProto(baselines->popularity);
    if (baselines->puresvd) {
      *report.mutable_puresvd() = eval::ToRankingMetricsProto(*baselines->puresvd);
    }
    if (ratings) *report.mutable_model_ratings() = eval::ToRatingMetricsProto(*ratings);
    if (const std::optional<std::string> warning = MostPopularWarning(report)) {
      log << "warning: " << *warning << "\n" << std::flush;
    }
    for (const auto& [name, value] : model_metrics->ToMap()) {
      (*metadata.mutable_metrics())[name] = value;
    }
    for (const auto& [name, value] : baselines->popularity.ToMap("popularity.")) {
      (*metadata.mutable_metrics())[name] = value;
    }
    if (baselines->puresvd) {
      for (const auto& [name, value] : baselines->puresvd->ToMap("puresvd.")) {
        (*metadata.mutable_metrics())[name] = value;
      }
    }
    if (ratings) {
      for (const auto& [name, value] : ratings->ToMap()) (*metadata.mutable_metrics())[name] = value;
    }
  }
  report.set_model_and_data_bytes(train.MemoryBytes() + TransposeBytes(train) +
                                  FactorBytes(trainer->user_factors()) +
                                  FactorBytes(trainer->item_factors()));

  // 5. Publish.
  if (config.publish) {
    FillRunMetadata(config, stats, report, &metadata);
    metadata.set_nnz(train.nnz());
    TrainedModel model;
    model.user_ids = &data.user_ids;
    model.item_ids = &data.item_ids;
    model.users = &factors.users();
    model.items = &factors.items();
    model.seen = {&train};
    if (evaluate) model.seen.push_back(&test);
    model.popular_items = eval::PopularityOrder(train);
    const absl::Time start = absl::Now();
    auto version =
        PublishModel(config.db, model, std::move(metadata), config.publish_options, &log);
    if (!version.ok()) return version.status();
    report.set_version(static_cast<uint32_t>(*version));
    log << absl::StrFormat("published model version %d to %s (%.2f s)\n", *version,
                           config.db, absl::ToDoubleSeconds(absl::Now() - start))
        << std::flush;
  } else {
    log << "not published (--no_publish)\n";
  }

  report.set_peak_rss_bytes(PeakResidentBytes());
  log << absl::StrFormat(
      "peak RSS %.1f MB (CSR matrices and factors: %.1f MB)\n",
      report.peak_rss_bytes() / 1e6, report.model_and_data_bytes() / 1e6);
  if (absl::Status s = WriteOutputs(config, report); !s.ok()) return s;
  return report;
}

}  // namespace affinity
