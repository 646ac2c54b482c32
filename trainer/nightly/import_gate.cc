#include "trainer/nightly/import_gate.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/model_store.h"
#include "trainer/nightly/comparison_split.h"
#include "trainer/nightly/gated_evaluation.h"
#include "trainer/nightly/live_model.h"

namespace affinity {

absl::StatusOr<affinity::v1::GateRecord> GateImportedModel(const std::string& db,
                                                           const GateOptions& gate_options,
                                                           const eval::EvalOptions& eval_options,
                                                           ImportedModel* model,
                                                           std::ostream& log) {
  GateOptions options = gate_options;
  if (options.metric.empty()) options.metric = absl::StrCat("ndcg_at_", eval_options.k);
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  affinity::v1::GateRecord gate;
  affinity::v1::TrainingReport report;
  auto live_version = (*store)->LiveVersion();
  if (absl::IsNotFound(live_version.status())) {
    gate = FirstVersionGate(options.metric);
    log << DescribeGate(gate) << "\n";
  } else if (!live_version.ok()) {
    return live_version.status();
  } else if (model->seen.nnz() == 0) {
    gate = NotComparableGate(options, *live_version,
                             "no --interactions to compare the imported factors with live "
                             "version " + absl::StrCat(*live_version) + " on");
    log << DescribeGate(gate) << "\n";
  } else {
    auto reader = (*store)->OpenVersion(*live_version);
    if (!reader.ok()) return reader.status();
    auto live = LoadAlignedLiveModel(**reader, model->users.ids, model->items.ids,
                                     /*with_seen=*/true);
    if (!live.ok()) return live.status();
    ComparisonSplit split = SplitNotIn(model->seen, live->seen, live->known_users);
    const std::string comparison = absl::StrFormat(
        "interactions absent from live version %d's data: %d held-out interactions of %d users "
        "it knows (the imported factors may have been trained on them; export Spark's "
        "training data up to the live version's cut-off to keep the comparison fair)",
        *live_version, split.test.nnz(), split.test_users);
    log << "comparison: " << comparison << "\n";
    // The live version's vectors carry one extra column (live_model.h); the
    // imported ones get a zero column so both share the item matrix shape.
    FactorMatrix users(model->users.factors.rows(), model->users.factors.cols() + 1);
    users << model->users.factors, FactorMatrix::Zero(users.rows(), 1);
    FactorMatrix items(model->items.factors.rows(), model->items.factors.cols() + 1);
    items << model->items.factors, FactorMatrix::Zero(items.rows(), 1);
    GatedEvaluationInput input;
    input.train = &split.train;
    input.test = &split.test;
    input.candidate = {"imported", &users, &items, false};
    input.live = ScoredModel{absl::StrCat("live v", *live_version), &live->users, &live->items,
                             false};
    input.live_version = *live_version;
    input.eval_options = eval_options;
    input.gate = options;
    input.comparison = comparison;
    auto evaluated = EvaluateAndGate(input, log, &report);
    if (!evaluated.ok()) return evaluated.status();
    gate = evaluated->gate;
    for (const auto& [name, value] : evaluated->metrics) {
      (*model->metadata.mutable_metrics())[name] = value;
    }
  }
  *model->metadata.mutable_gate() = gate;
  model->metadata.set_ineligible(!GatePassed(gate));
  model->metadata.set_trained_on("imported factors (trained elsewhere)");
  return gate;
}

}  // namespace affinity
