#include "trainer/import_command.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/import/import_job.h"
#include "trainer/model_publisher.h"
#include "trainer/nightly/gate.h"
#include "trainer/nightly/gated_evaluation.h"
#include "trainer/nightly/import_gate.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, user_factors, "",
          "`import`: directory (or file) written by Spark's model.userFactors.write.json.");
ABSL_FLAG(std::string, item_factors, "",
          "`import`: directory (or file) written by Spark's model.itemFactors.write.json.");
ABSL_FLAG(std::string, interactions, "",
          "`import`: optional interactions file for seen items and popularity.");

// Training flags that `import` reads too (defined in train_flags.cc).
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(std::string, weight);
ABSL_DECLARE_FLAG(std::string, on_error);
ABSL_DECLARE_FLAG(double, alpha);
ABSL_DECLARE_FLAG(double, regularization);
ABSL_DECLARE_FLAG(std::string, gate_metric);
ABSL_DECLARE_FLAG(double, gate_tolerance);
ABSL_DECLARE_FLAG(bool, force);
ABSL_DECLARE_FLAG(int64_t, eval_users);

namespace affinity {
namespace {

absl::StatusOr<SparkImportConfig> ConfigFromFlags() {
  SparkImportConfig c;
  c.user_factors = absl::GetFlag(FLAGS_user_factors);
  c.item_factors = absl::GetFlag(FLAGS_item_factors);
  c.interactions = absl::GetFlag(FLAGS_interactions);
  if (c.user_factors.empty()) {
    return absl::InvalidArgumentError(
        "--user_factors: expected the directory of Spark's userFactors.write.json");
  }
  if (c.item_factors.empty()) {
    return absl::InvalidArgumentError(
        "--item_factors: expected the directory of Spark's itemFactors.write.json");
  }
  auto reader = ReaderOptionsFromFlags();
  if (!reader.ok()) return reader.status();
  c.reader = *reader;
  c.alpha = static_cast<float>(absl::GetFlag(FLAGS_alpha));
  c.regularization = static_cast<float>(absl::GetFlag(FLAGS_regularization));
  if (!c.interactions.empty()) {
    c.parameters = {{"format", absl::GetFlag(FLAGS_format)},
                    {"weight", absl::GetFlag(FLAGS_weight)},
                    {"on_error", absl::GetFlag(FLAGS_on_error)}};
  }
  return c;
}

}  // namespace

absl::StatusOr<bool> ImportSparkCommand(std::ostream& out) {
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the model store directory");
  absl::StatusOr<SparkImportConfig> config = ConfigFromFlags();
  if (!config.ok()) return config.status();
  if (absl::Status s = CheckPublishTarget(db); !s.ok()) return s;
  absl::StatusOr<ImportedModel> model = AssembleSparkModel(*config, out);
  if (!model.ok()) return model.status();
  if (absl::Status s = CheckModelSize(model->metadata.users(), model->metadata.items());
      !s.ok()) {
    return s;
  }
  GateOptions gate;
  gate.metric = absl::GetFlag(FLAGS_gate_metric);
  gate.tolerance = absl::GetFlag(FLAGS_gate_tolerance);
  gate.force = absl::GetFlag(FLAGS_force);
  if (absl::Status s = ValidateGateMetric(gate.metric, absl::GetFlag(FLAGS_k)); !s.ok()) return s;
  if (gate.metric == "rmse" || gate.metric == "mae") {
    return absl::InvalidArgumentError(
        "--gate_metric: imported factors are compared on ranking metrics, expected "
        "precision_at_K, recall_at_K, ndcg_at_K or map_at_K");
  }
  eval::EvalOptions eval_options;
  eval_options.k = absl::GetFlag(FLAGS_k);
  eval_options.max_users = absl::GetFlag(FLAGS_eval_users);
  eval_options.threads = std::max(1u, std::thread::hardware_concurrency());
  auto decided = GateImportedModel(db, gate, eval_options, &*model, out);
  if (!decided.ok()) return decided.status();
  const bool eligible = GatePassed(*decided);
  const absl::Time start = absl::Now();
  absl::StatusOr<uint64_t> version = PublishImportedModel(db, *model);
  if (!version.ok()) return version.status();
  out << absl::StrFormat("%s model version %d to %s (spark_als, %d users, %d items, "
                         "%d dims; %.1f s)\n",
                         eligible ? "published" : "stored (not eligible to serve)", *version, db,
                         model->metadata.users(), model->metadata.items(),
                         model->metadata.dims(), absl::ToDoubleSeconds(absl::Now() - start));
  return eligible;
}

}  // namespace affinity
