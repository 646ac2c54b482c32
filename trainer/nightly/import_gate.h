// The nightly gate for factors trained elsewhere (trainer/import/): the
// imported model is compared with the live version on the interactions of
// --interactions that the live version never saw, for the users it knows,
// exactly as a candidate trained here is (gated_evaluation.h). Without
// interactions there is nothing to compare on (NOT_COMPARABLE unless
// --force). The imported factors cannot be refit: what was imported is what
// is published.
#ifndef AFFINITY_TRAINER_NIGHTLY_IMPORT_GATE_H_
#define AFFINITY_TRAINER_NIGHTLY_IMPORT_GATE_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "trainer/eval/eval_options.h"
#include "trainer/import/import_job.h"
#include "trainer/nightly/gate.h"

namespace affinity {

// Compares `model` with the live version of the store at `db` and records
// the decision (gate, ineligible, metrics) in model->metadata. gate.metric
// empty means ndcg_at_<k>. Returns the decision.
absl::StatusOr<affinity::v1::GateRecord> GateImportedModel(const std::string& db,
                                                           const GateOptions& gate,
                                                           const eval::EvalOptions& eval_options,
                                                           ImportedModel* model,
                                                           std::ostream& log);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_IMPORT_GATE_H_
