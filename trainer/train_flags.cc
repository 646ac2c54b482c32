#include "trainer/train_flags.h"

#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "trainer/model_publisher.h"

ABSL_FLAG(std::string, input, "", "Interactions file (CSV/TSV: user, item[, weight[, timestamp]]).");
ABSL_FLAG(std::string, db, "", "Model store directory (created if missing).");
ABSL_FLAG(std::string, format, "auto",
          "Input format: auto, csv, tsv, whitespace or movielens (u.data and "
          "ratings.csv as they are).");
ABSL_FLAG(std::string, header, "auto", "Header line: auto, yes or no.");
ABSL_FLAG(int, factors, 64, "Latent factors per user and item.");
ABSL_FLAG(int, iterations, 15, "ALS iterations (user half + item half).");
ABSL_FLAG(double, regularization, 0.01, "L2 regularization.");
ABSL_FLAG(double, alpha, 1.0, "Implicit confidence: c = 1 + alpha * weight.");
ABSL_FLAG(std::string, solver, "cg",
          "cg (implicit ALS, conjugate gradient), cholesky (implicit ALS, "
          "exact) or explicit (ratings, with biases).");
ABSL_FLAG(int, cg_steps, 3, "Conjugate-gradient steps per row and half-iteration.");
ABSL_FLAG(std::string, weight, "raw",
          "Weight transform of the summed weights: raw, log1p or binary.");
ABSL_FLAG(int, threads, 0, "Worker threads; 0 = one per core.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the initialization and the random holdout.");
ABSL_FLAG(double, holdout, 0.2,
          "Fraction of each user's interactions held out for evaluation; 0 "
          "trains on everything and skips evaluation.");
ABSL_FLAG(std::string, holdout_by, "random", "random or time (the latest ones).");
ABSL_FLAG(int, k, 10, "Cut-off of the ranking metrics.");
ABSL_FLAG(int64_t, progress_eval_users, 1000,
          "Holdout users sampled for the per-iteration metrics; 0 = none.");
ABSL_FLAG(int64_t, eval_users, 10000,
          "Held-out users (a seeded sample) of the final evaluation; 0 = all of them.");
ABSL_FLAG(bool, puresvd, true, "Report the PureSVD baseline beside most-popular.");
ABSL_FLAG(int, puresvd_factors, 0, "Rank of the PureSVD baseline; 0 = the same as --factors.");
ABSL_FLAG(std::string, puresvd_solver, "randomized",
          "PureSVD's truncated SVD: randomized (subspace iteration, seconds on large sets) or "
          "svds (Armadillo's Lanczos solver, the exact reference; slow beyond ~100k users).");
ABSL_FLAG(std::string, on_error, "fail",
          "Malformed input rows: fail (stop at the first) or skip (count and report).");
ABSL_FLAG(int, max_id_length, 256, "Longest accepted user or item id, in bytes.");
ABSL_FLAG(std::string, report, "", "Write an HTML report of the run to this file.");
ABSL_FLAG(std::string, metrics_json, "", "Write the run's figures as JSON to this file.");
ABSL_FLAG(bool, no_publish, false, "Train and evaluate, but publish nothing.");
ABSL_FLAG(std::string, build_index, "",
          "hnsw: build the items' HNSW graph (the server's --scorer=hnsw parameters); ivf: "
          "train their IVF lists (the server's --scorer=ivf defaults); either is stored with "
          "the published version, so that servers load it instead of building it.");

namespace affinity {
namespace {

absl::Status FlagError(absl::string_view flag, const absl::Status& cause) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", cause.message()));
}

absl::Status Expect(bool ok, absl::string_view flag, absl::string_view expected) {
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected ", expected));
}

}  // namespace

absl::StatusOr<InteractionReaderOptions> ReaderOptionsFromFlags() {
  InteractionReaderOptions reader;
  auto format = ParseInteractionFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) return FlagError("format", format.status());
  reader.format = *format;
  const std::string header = absl::GetFlag(FLAGS_header);
  if (header == "auto") {
    reader.header = HeaderMode::kAuto;
  } else if (header == "yes") {
    reader.header = HeaderMode::kPresent;
  } else if (header == "no") {
    reader.header = HeaderMode::kAbsent;
  } else {
    return Expect(false, "header", "auto, yes or no");
  }
  auto weight = ParseWeightTransform(absl::GetFlag(FLAGS_weight));
  if (!weight.ok()) return FlagError("weight", weight.status());
  reader.weight_transform = *weight;
  auto on_error = ParseOnError(absl::GetFlag(FLAGS_on_error));
  if (!on_error.ok()) return FlagError("on_error", on_error.status());
  reader.on_error = *on_error;
  const int max_id = absl::GetFlag(FLAGS_max_id_length);
  if (absl::Status s = Expect(max_id >= 1, "max_id_length", "a length >= 1"); !s.ok()) return s;
  reader.max_id_length = max_id;
  return reader;
}

absl::StatusOr<TrainingJobConfig> TrainingJobConfigFromFlags() {
  TrainingJobConfig c;
  c.input = absl::GetFlag(FLAGS_input);
  c.db = absl::GetFlag(FLAGS_db);
  c.publish = !absl::GetFlag(FLAGS_no_publish);
  c.publish_options.build_index = absl::GetFlag(FLAGS_build_index);
  if (absl::Status s = CheckBuildIndex(c.publish_options.build_index); !s.ok()) return s;
  if (absl::Status s = Expect(!c.input.empty(), "input", "an interactions file"); !s.ok()) return s;
  if (absl::Status s = Expect(!c.publish || !c.db.empty(), "db",
                              "a model store directory (or --no_publish)");
      !s.ok()) {
    return s;
  }

  auto reader = ReaderOptionsFromFlags();
  if (!reader.ok()) return reader.status();
  c.reader = *reader;

  c.holdout.test_fraction = absl::GetFlag(FLAGS_holdout);
  if (absl::Status s = Expect(c.holdout.test_fraction >= 0 && c.holdout.test_fraction < 1,
                              "holdout", "a fraction in [0, 1)");
      !s.ok()) {
    return s;
  }
  auto holdout_by = ParseHoldoutStrategy(absl::GetFlag(FLAGS_holdout_by));
  if (!holdout_by.ok()) return FlagError("holdout_by", holdout_by.status());
  c.holdout.strategy = *holdout_by;
  c.holdout.seed = absl::GetFlag(FLAGS_seed);

  auto solver = ParseAlsSolver(absl::GetFlag(FLAGS_solver));
  if (!solver.ok()) return FlagError("solver", solver.status());
  c.als.solver = *solver;
  c.als.factors = absl::GetFlag(FLAGS_factors);
  c.als.iterations = absl::GetFlag(FLAGS_iterations);
  c.als.regularization = static_cast<float>(absl::GetFlag(FLAGS_regularization));
  c.als.alpha = static_cast<float>(absl::GetFlag(FLAGS_alpha));
  c.als.cg_steps = absl::GetFlag(FLAGS_cg_steps);
  c.als.seed = absl::GetFlag(FLAGS_seed);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (absl::Status s = Expect(threads >= 0, "threads", "0 (one per core) or more"); !s.ok()) return s;
  c.als.threads = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  c.publish_options.index_threads = c.als.threads;
  if (absl::Status s = ValidateOptions(c.als); !s.ok()) {
    // "AlsOptions.factors must be ..." -> "--factors must be ..."
    return absl::InvalidArgumentError(
        absl::StrReplaceAll(s.message(), {{"AlsOptions.", "--"}}));
  }

  c.k = absl::GetFlag(FLAGS_k);
  if (absl::Status s = Expect(c.k >= 1, "k", "a cut-off >= 1"); !s.ok()) return s;
  c.progress_eval_users = absl::GetFlag(FLAGS_progress_eval_users);
  if (absl::Status s = Expect(c.progress_eval_users >= 0, "progress_eval_users", "a count >= 0");
      !s.ok()) {
    return s;
  }
  c.eval_users = absl::GetFlag(FLAGS_eval_users);
  if (absl::Status s = Expect(c.eval_users >= 0, "eval_users", "a count >= 0 (0 = all)");
      !s.ok()) {
    return s;
  }
  const int puresvd_factors = absl::GetFlag(FLAGS_puresvd_factors);
  if (absl::Status s = Expect(puresvd_factors >= 0, "puresvd_factors", "a rank >= 0"); !s.ok()) {
    return s;
  }
  c.puresvd.factors = !absl::GetFlag(FLAGS_puresvd) ? 0
                      : puresvd_factors > 0         ? puresvd_factors
                                                    : c.als.factors;
  const std::string svd_solver = absl::GetFlag(FLAGS_puresvd_solver);
  if (svd_solver == "randomized") {
    c.puresvd.solver = eval::PureSvdSolver::kRandomized;
  } else if (svd_solver == "svds") {
    c.puresvd.solver = eval::PureSvdSolver::kSvds;
  } else {
    return Expect(false, "puresvd_solver", "randomized or svds");
  }
  c.puresvd.threads = c.als.threads;
  c.puresvd.seed = c.als.seed;
  c.report_html = absl::GetFlag(FLAGS_report);
  c.metrics_json = absl::GetFlag(FLAGS_metrics_json);

  c.parameters = {
      {"input", c.input},
      {"format", absl::GetFlag(FLAGS_format)},
      {"header", absl::GetFlag(FLAGS_header)},
      {"max_id_length", absl::StrCat(c.reader.max_id_length)},
      {"solver", absl::GetFlag(FLAGS_solver)},
      {"factors", absl::StrCat(c.als.factors)},
      {"iterations", absl::StrCat(c.als.iterations)},
      {"regularization", absl::StrCat(c.als.regularization)},
      {"alpha", absl::StrCat(c.als.alpha)},
      {"cg_steps", absl::StrCat(c.als.cg_steps)},
      {"weight", absl::GetFlag(FLAGS_weight)},
      {"threads", absl::StrCat(c.als.threads)},
      {"seed", absl::StrCat(c.als.seed)},
      {"holdout", absl::StrCat(c.holdout.test_fraction)},
      {"holdout_by", absl::GetFlag(FLAGS_holdout_by)},
      {"k", absl::StrCat(c.k)},
      {"on_error", absl::GetFlag(FLAGS_on_error)},
  };
  return c;
}

}  // namespace affinity
