#include "trainer/nightly/nightly_job.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "storage/model_store.h"
#include "trainer/als_run.h"
#include "trainer/eval/popularity_eval.h"
#include "trainer/model_publisher.h"
#include "trainer/nightly/comparison_plan.h"
#include "trainer/nightly/fingerprint.h"
#include "trainer/nightly/gate.h"
#include "trainer/nightly/gated_evaluation.h"
#include "trainer/nightly/live_model.h"
#include "trainer/nightly/retention.h"
#include "trainer/report/baseline_warning.h"
#include "trainer/report/peak_memory.h"
#include "trainer/training_outputs.h"

namespace affinity {
namespace {

using affinity::v1::GateRecord;
using storage::ModelStore;

// Wall time of the job's steps, in the order they ran.
class StepClock {
 public:
  explicit StepClock(affinity::v1::TrainingReport* report) : report_(report) {}
  void Start() { start_ = absl::Now(); }
  double Stop(const std::string& step) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    (*report_->mutable_step_seconds())[step] += seconds;
    order_.push_back(step);
    return seconds;
  }
  std::string Summary() const {
    std::string out;
    for (const std::string& step : order_) {
      if (!out.empty()) out += ", ";
      absl::StrAppendFormat(&out, "%s %.1f s", step, report_->step_seconds().at(step));
    }
    return out;
  }

 private:
  affinity::v1::TrainingReport* report_;
  absl::Time start_;
  std::vector<std::string> order_;
};

std::string DefaultGateMetric(const NightlyConfig& config, bool live_is_explicit) {
  if (!config.gate_metric.empty()) return config.gate_metric;
  if (config.training.als.solver == AlsSolver::kExplicit && live_is_explicit) return "rmse";
  return absl::StrCat("ndcg_at_", config.training.k);
}

// The live version and what the store says about this run.
struct StoreView {
  std::vector<storage::VersionInfo> versions;
  std::optional<uint64_t> live;
  std::unique_ptr<ModelStore> follower;
};

absl::StatusOr<StoreView> ReadStore(const std::string& db) {
  StoreView view;
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  view.follower = *std::move(store);
  auto versions = view.follower->ListVersions();
  if (!versions.ok()) return versions.status();
  view.versions = *std::move(versions);
  auto live = view.follower->LiveVersion();
  if (live.ok()) {
    view.live = *live;
  } else if (!absl::IsNotFound(live.status())) {
    return live.status();
  }
  return view;
}

}  // namespace

std::map<std::string, std::string> ModelParameters(const NightlyConfig& config) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : config.training.parameters) {
    static const char* const kModelChanging[] = {
        "format", "header", "weight", "on_error", "max_id_length", "solver", "factors",
        "iterations", "regularization", "alpha", "cg_steps", "seed"};
    for (const char* wanted : kModelChanging) {
      if (name == wanted) out[name] = value;
    }
    // Without a refit the published vectors are those of the split.
    if (!config.refit && (name == "holdout" || name == "holdout_by")) out[name] = value;
  }
  out["refit"] = config.refit ? "true" : "false";
  return out;
}

absl::StatusOr<NightlyResult> RunNightlyJob(const NightlyConfig& config, std::ostream& log) {
  const TrainingJobConfig& training = config.training;
  NightlyResult result;
  affinity::v1::TrainingReport& report = result.report;
  StepClock clock(&report);
  StampRunStart(&report);
  report.set_k(training.k);
  report.set_algorithm(AlgorithmName(training.als.solver));
  for (const auto& [name, value] : training.parameters) {
    (*report.mutable_parameters())[name] = value;
  }
  if (absl::Status s = ValidateOptions(training.als); !s.ok()) return s;
  if (absl::Status s = ValidateGateMetric(config.gate_metric, training.k); !s.ok()) return s;
  if (!(config.gate_tolerance >= 0)) {
    return absl::InvalidArgumentError("--gate_tolerance: expected an absolute value >= 0");
  }
  if (config.keep_versions < 1) {
    return absl::InvalidArgumentError("--keep_versions: expected at least 1");
  }
  if (training.db.empty()) return absl::InvalidArgumentError("--db: expected the model store");
  if (absl::Status s = CheckOutputPaths(training); !s.ok()) return s;
  if (absl::Status s = CheckPublishTarget(training.db); !s.ok()) return s;

  // 1. Idempotence.
  clock.Start();
  auto input_sha = Sha256OfFile(training.input);
  if (!input_sha.ok()) return input_sha.status();
  const std::string fingerprint = ModelFingerprint(*input_sha, ModelParameters(config));
  report.set_fingerprint(fingerprint);
  auto view = ReadStore(training.db);
  if (!view.ok()) return view.status();
  clock.Stop("fingerprint");
  if (!view->versions.empty()) {
    const storage::VersionInfo& newest = view->versions.back();
    const bool retry_forced = config.force && newest.metadata.ineligible();
    if (newest.metadata.fingerprint() == fingerprint && !retry_forced) {
      result.outcome = NightlyOutcome::kSkipped;
      result.version = newest.version;
      report.set_outcome("skipped");
      report.set_version(static_cast<uint32_t>(newest.version));
      result.summary = absl::StrFormat(
          "nightly: skipped (unchanged input): version %d (gate %s) already covers %s with "
          "these parameters (fingerprint %s)",
          newest.version, GateSummary(newest.metadata.gate()), training.input,
          ShortFingerprint(fingerprint));
      return result;
    }
  }
  log << absl::StrFormat("fingerprint %s (input sha256 %s)\n", ShortFingerprint(fingerprint),
                         ShortFingerprint(*input_sha));

  // 2. Interactions.
  clock.Start();
  auto read = ReadInteractions(training.input, training.reader);
  if (!read.ok()) return read.status();
  Interactions data = *std::move(read);
  LogIngest(training, data, log, &report);
  if (absl::Status s = CheckModelSize(data.user_ids.size(), data.item_ids.size()); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(training.input, ": ", s.message()));
  }
  clock.Stop("ingest");
  // A truncated or partial export would train a model on a fraction of the
  // data, and the comparison cannot tell (there is nothing new to compare
  // on): refuse it before training.
  if (view->live.has_value() && config.min_input_ratio > 0 && !config.force) {
    for (const storage::VersionInfo& v : view->versions) {
      if (v.version != *view->live) continue;
      const int64_t before = v.metadata.nnz();
      if (before > 0 && data.matrix.nnz() < config.min_input_ratio * before) {
        result.outcome = NightlyOutcome::kGated;
        report.set_outcome("gated");
        result.summary = absl::StrFormat(
            "nightly: gated: nothing trained or stored: %s has %d interactions, live version %d "
            "was trained on %d (less than --min_input_ratio=%g of it; a truncated or partial "
            "export?); --force trains on it anyway",
            training.input, data.matrix.nnz(), v.version, before, config.min_input_ratio);
        return result;
      }
    }
  }
  const bool has_timestamps = !data.timestamps.empty();
  int64_t min_ts = 0, max_ts = 0;
  if (has_timestamps) {
    const auto [lo, hi] = std::minmax_element(data.timestamps.begin(), data.timestamps.end());
    min_ts = *lo;
    max_ts = *hi;
  }

  // The held-out interactions of the comparison, and the live version laid
  // out in this data's indices.
  clock.Start();
  auto plan = PlanComparison(data, training, *view->follower, view->live);
  if (!plan.ok()) return plan.status();
  std::optional<AlignedLiveModel>& live = plan->live;
  const std::optional<AlsOptions>& live_recipe = plan->live_recipe;
  const CsrMatrix& train = plan->train;
  const CsrMatrix& test = plan->test;
  const std::string& comparison = plan->description;
  log << "comparison: " << comparison << "\n";
  report.set_comparison(comparison);
  report.set_nnz(train.nnz());
  report.set_heldout_nnz(test.nnz());
  const bool evaluate = test.nnz() > 0;
  clock.Stop("split");

  // 3. The candidate.
  clock.Start();
  eval::EvalOptions eval_options;
  eval_options.k = training.k;
  eval_options.threads = training.als.threads;
  eval_options.seed = training.holdout.seed;
  eval::EvalOptions progress = eval_options;
  progress.max_users = training.progress_eval_users;
  auto run = TrainAls(train, evaluate ? &test : nullptr, training.als, progress, "candidate",
                      log, &report);
  if (!run.ok()) return run.status();
  report.set_seconds_per_iteration(Median(run->iteration_seconds));
  report.set_train_seconds(run->train_seconds);
  // The live version's recipe on the same split, when it is what the
  // candidate is compared with.
  std::optional<AlsRun> recipe_run;
  if (live_recipe.has_value()) {
    auto r = TrainAls(train, nullptr, *live_recipe, progress,
                      absl::StrCat("live v", live->version, " recipe"), log, nullptr);
    if (!r.ok()) return r.status();
    recipe_run = *std::move(r);
  }
  clock.Stop("train");

  // 4. Evaluation: candidate, live, most-popular, PureSVD on the same
  // users; 5. the gate.
  clock.Start();
  std::unique_ptr<ScoringFactors> recipe_factors;
  if (recipe_run.has_value()) {
    recipe_factors = std::make_unique<ScoringFactors>(*recipe_run->trainer);
  }
  const bool live_explicit = live.has_value() && live->metadata.algorithm() == "explicit_als";
  GatedEvaluationInput input;
  input.train = &train;
  input.test = &test;
  input.eval_options = eval_options;
  input.eval_options.max_users = training.eval_users;
  input.puresvd = training.puresvd;
  input.gate.metric = DefaultGateMetric(config, live_explicit || !live.has_value());
  input.gate.tolerance = config.gate_tolerance;
  input.gate.force = config.force;
  input.comparison = comparison;
  affinity::v1::ModelMetadata metadata;
  GateRecord gate;
  {
    ScoringFactors candidate(*run->trainer);
    input.candidate = {"candidate", &candidate.users(), &candidate.items(),
                       training.als.solver == AlsSolver::kExplicit};
    if (live.has_value()) {
      input.live_version = live->version;
      input.live = recipe_factors
                       ? ScoredModel{absl::StrCat("live v", live->version, " recipe"),
                                     &recipe_factors->users(), &recipe_factors->items(),
                                     live_explicit}
                       : ScoredModel{absl::StrCat("live v", live->version), &live->users,
                                     &live->items, live_explicit};
    }
    auto evaluated = EvaluateAndGate(input, log, &report);
    if (!evaluated.ok()) return evaluated.status();
    if (const std::optional<std::string> warning = MostPopularWarning(report)) {
      log << "warning: " << *warning << "\n";
    }
    gate = evaluated->gate;
    for (const auto& [name, value] : evaluated->metrics) (*metadata.mutable_metrics())[name] = value;
  }
  clock.Stop("evaluate");
  const bool eligible = GatePassed(gate);

  // 6. Refit on everything, or keep the candidate.
  std::unique_ptr<AlsTrainer> published;
  std::string trained_on;
  const bool refitted = eligible && config.refit && test.nnz() > 0;
  if (refitted) {
    recipe_factors.reset();
    recipe_run.reset();
    run->trainer.reset();
    clock.Start();
    auto refit = TrainAls(data.matrix, nullptr, training.als, progress, "refit", log, nullptr);
    if (!refit.ok()) return refit.status();
    published = std::move(refit->trainer);
    clock.Stop("refit");
    trained_on = absl::StrFormat("all %d interactions (refit after the gate, held-out ones "
                                 "included)", data.matrix.nnz());
  } else {
    published = std::move(run->trainer);
    trained_on = test.nnz() > 0
                     ? absl::StrFormat("the gate's training split: %d of %d interactions "
                                       "(held-out ones excluded%s)",
                                       train.nnz(), data.matrix.nnz(),
                                       eligible ? ", --refit=false" : ", not refit: gated")
                     : absl::StrFormat("all %d interactions", data.matrix.nnz());
  }
  log << "published vectors trained on " << trained_on << "\n";
  report.set_trained_on(trained_on);

  // 7. Publish (an ineligible version is stored but never serves).
  clock.Start();
  FillRunMetadata(training, data.stats, report, &metadata);
  metadata.set_nnz(data.matrix.nnz());
  metadata.set_fingerprint(fingerprint);
  metadata.set_has_timestamps(has_timestamps);
  metadata.set_data_min_timestamp(min_ts);
  metadata.set_data_max_timestamp(max_ts);
  *metadata.mutable_gate() = gate;
  metadata.set_ineligible(!eligible);
  metadata.set_trained_on(trained_on);
  metadata.set_trained_interactions(refitted || test.nnz() == 0 ? data.matrix.nnz()
                                                                : train.nnz());
  view->follower.reset();
  {
    ScoringFactors factors(*published);
    TrainedModel model;
    model.user_ids = &data.user_ids;
    model.item_ids = &data.item_ids;
    model.users = &factors.users();
    model.items = &factors.items();
    model.seen = {&data.matrix};
    model.popular_items = eval::PopularityOrder(data.matrix);
    auto version =
        PublishModel(training.db, model, std::move(metadata), training.publish_options, &log);
    if (!version.ok()) return version.status();
    result.version = *version;
  }
  report.set_version(static_cast<uint32_t>(result.version));
  const double publish_seconds = clock.Stop("publish");
  log << absl::StrFormat("%s version %d to %s (%.2f s)\n",
                         eligible ? "published" : "stored (not eligible to serve)",
                         result.version, training.db, publish_seconds);

  // 8. Retention.
  clock.Start();
  {
    auto store = ModelStore::Open(training.db, ModelStore::Mode::kReadWrite);
    if (!store.ok()) return store.status();
    auto retained = ApplyRetention(**store, config.keep_versions);
    if (!retained.ok()) return retained.status();
    if (!retained->deleted.empty()) {
      std::string deleted;
      for (uint64_t v : retained->deleted) absl::StrAppend(&deleted, deleted.empty() ? "" : ", ", v);
      log << absl::StrFormat("retention: deleted version(s) %s; kept %d\n", deleted,
                             retained->kept.size());
    }
  }
  clock.Stop("retention");

  report.set_peak_rss_bytes(PeakResidentBytes());
  if (absl::Status s = WriteOutputs(training, report); !s.ok()) return s;
  result.outcome = eligible ? NightlyOutcome::kPublished : NightlyOutcome::kGated;
  report.set_outcome(eligible ? "published" : "gated");
  result.summary = absl::StrFormat(
      "nightly: %s version %d (%s; trained on %s) | %s",
      eligible ? "published" : "gated: stored, not eligible,", result.version,
      DescribeGate(gate), trained_on, clock.Summary());
  return result;
}

}  // namespace affinity
