#include "trainer/training_job.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "trainer/als_run.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/metrics_proto.h"
#include "trainer/eval/popularity_eval.h"
#include "trainer/model_publisher.h"
#include "trainer/report/atomic_file.h"
#include "trainer/report/html_report.h"
#include "trainer/report/peak_memory.h"

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

absl::Status WriteMetricsJson(const affinity::v1::TrainingReport& report,
                              const std::string& path) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(report, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("metrics JSON: ", status.ToString()));
  }
  return WriteFileAtomically(path, json);
}

// Fails early, before any work, when an output file could not be written
// later (its directory is missing or not writable).
absl::Status CheckWritableOutput(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  if (access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": cannot write ", path, " (directory ", dir, " is missing or not writable)"));
  }
  return absl::OkStatus();
}

void LogMetrics(std::ostream& log, const std::string& name,
                const eval::RankingMetrics& m) {
  log << absl::StrFormat(
      "  %-12s precision@%d %.4f  recall@%d %.4f  ndcg@%d %.4f  map@%d %.4f  "
      "coverage@%d %.4f  (%d users)\n",
      name, m.k, m.precision, m.k, m.recall, m.k, m.ndcg, m.k, m.map, m.k,
      m.coverage, m.users_evaluated);
}

}  // namespace

absl::StatusOr<affinity::v1::TrainingReport> RunTrainingJob(
    const TrainingJobConfig& config, std::ostream& log) {
  affinity::v1::TrainingReport report;
  report.set_k(config.k);
  report.set_algorithm(AlgorithmName(config.als.solver));
  for (const auto& [name, value] : config.parameters) {
    (*report.mutable_parameters())[name] = value;
  }
  if (absl::Status s = ValidateOptions(config.als); !s.ok()) return s;
  if (absl::Status s = CheckWritableOutput("report", config.report_html); !s.ok()) return s;
  if (absl::Status s = CheckWritableOutput("metrics_json", config.metrics_json); !s.ok()) {
    return s;
  }

  // 1. Interactions, streamed into a user-major CSR.
  auto read = ReadInteractions(config.input, config.reader);
  if (!read.ok()) return read.status();
  Interactions data = *std::move(read);
  const InteractionStats& stats = data.stats;
  const double ingest_seconds = stats.parse_seconds + stats.build_seconds;
  const double mb_per_s = ingest_seconds > 0 ? stats.bytes_read / 1e6 / ingest_seconds : 0;
  log << absl::StrFormat(
      "read %s: %d rows, %d users, %d items, %d interactions (%d duplicates "
      "merged) in %.2f s, %.1f MB/s\n",
      config.input, stats.rows_read, data.user_ids.size(), data.item_ids.size(),
      data.matrix.nnz(), stats.duplicates_merged, ingest_seconds, mb_per_s);
  if (stats.rows_skipped > 0) {
    log << absl::StrFormat("skipped %d malformed rows (--on_error=skip); first ones:\n",
                           stats.rows_skipped);
    for (const std::string& e : stats.error_samples) log << "  " << e << "\n";
  }
  report.set_users(data.user_ids.size());
  report.set_items(data.item_ids.size());
  report.set_rows_read(stats.rows_read);
  report.set_rows_skipped(stats.rows_skipped);
  report.set_ingest_seconds(ingest_seconds);
  report.set_ingest_mb_per_s(mb_per_s);

  // 2. Holdout.
  const bool evaluate = config.holdout.test_fraction > 0;
  CsrMatrix train, test;
  if (evaluate) {
    auto split = SplitHoldout(data.matrix, data.timestamps, config.holdout);
    if (!split.ok()) return split.status();
    train = std::move(split->train);
    test = std::move(split->test);
    log << absl::StrFormat("holdout: %d training and %d held-out interactions\n",
                           train.nnz(), test.nnz());
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

  // 4. Evaluation beside the most-popular baseline.
  ScoringFactors factors(*trainer);
  affinity::v1::ModelMetadata metadata;
  // Present (zero) in the JSON even when nothing is evaluated.
  report.mutable_model();
  report.mutable_popularity();
  if (evaluate) {
    eval::EvalOptions full = progress_eval;
    full.max_users = 0;
    const absl::Time start = absl::Now();
    auto model_metrics = eval::EvaluateFactorModel(factors.users(), factors.items(),
                                                   train, test, full);
    if (!model_metrics.ok()) return model_metrics.status();
    auto popular_metrics = eval::EvaluatePopularity(train, test, full);
    if (!popular_metrics.ok()) return popular_metrics.status();
    log << absl::StrFormat("holdout evaluation (%.1f s):\n",
                           absl::ToDoubleSeconds(absl::Now() - start));
    LogMetrics(log, "model", *model_metrics);
    LogMetrics(log, "most-popular", *popular_metrics);
    *report.mutable_model() = eval::ToRankingMetricsProto(*model_metrics);
    *report.mutable_popularity() = eval::ToRankingMetricsProto(*popular_metrics);
    for (const auto& [name, value] : model_metrics->ToMap()) {
      (*metadata.mutable_metrics())[name] = value;
    }
    for (const auto& [name, value] : popular_metrics->ToMap("popularity.")) {
      (*metadata.mutable_metrics())[name] = value;
    }
  }
  report.set_model_and_data_bytes(train.MemoryBytes() + TransposeBytes(train) +
                                  FactorBytes(trainer->user_factors()) +
                                  FactorBytes(trainer->item_factors()));

  // 5. Publish.
  if (config.publish) {
    metadata.set_algorithm(report.algorithm());
    metadata.set_factors(config.als.factors);
    metadata.set_nnz(train.nnz());
    metadata.set_regularization(config.als.regularization);
    metadata.set_alpha(config.als.alpha);
    metadata.set_weight_transform(WeightTransformName(config.reader.weight_transform));
    metadata.set_input_crc32(stats.crc32);
    metadata.set_input_path(config.input);
    metadata.set_input_bytes(stats.bytes_read);
    metadata.set_created_at_unix(std::time(nullptr));
    *metadata.mutable_parameters() = report.parameters();
    TrainedModel model;
    model.user_ids = &data.user_ids;
    model.item_ids = &data.item_ids;
    model.users = &factors.users();
    model.items = &factors.items();
    model.seen = {&train};
    if (evaluate) model.seen.push_back(&test);
    model.popular_items = eval::PopularityOrder(train);
    const absl::Time start = absl::Now();
    auto version = PublishModel(config.db, model, std::move(metadata));
    if (!version.ok()) return version.status();
    report.set_version(static_cast<uint32_t>(*version));
    log << absl::StrFormat("published model version %d to %s (%.2f s)\n", *version,
                           config.db, absl::ToDoubleSeconds(absl::Now() - start));
  } else {
    log << "not published (--no_publish)\n";
  }

  report.set_peak_rss_bytes(PeakResidentBytes());
  log << absl::StrFormat(
      "peak RSS %.1f MB (CSR matrices and factors: %.1f MB)\n",
      report.peak_rss_bytes() / 1e6, report.model_and_data_bytes() / 1e6);
  if (!config.metrics_json.empty()) {
    if (absl::Status s = WriteMetricsJson(report, config.metrics_json); !s.ok()) return s;
  }
  if (!config.report_html.empty()) {
    if (absl::Status s = WriteTrainingReportHtml(report, config.report_html); !s.ok()) {
      return s;
    }
  }
  return report;
}

}  // namespace affinity
