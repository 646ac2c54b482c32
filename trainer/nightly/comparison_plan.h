// How the nightly job compares tonight's candidate with the live version
// (comparison_split.h has the splits themselves):
//  - the store has no live version: the --holdout split, the first version
//    passes (with --holdout=0 nothing is evaluated);
//  - the live version's data has timestamps, and tonight's too: the
//    interactions newer than its data are held out;
//  - otherwise: the interactions absent from its stored seen items;
//  - and when that holds nothing out (the same data, a parameter changed),
//    the live version's recorded recipe is retrained on the --holdout split
//    beside the candidate, if it can be (same --weight, a recipe recorded).
// Not thread-safe; reads the live version through `store`.
#ifndef AFFINITY_TRAINER_NIGHTLY_COMPARISON_PLAN_H_
#define AFFINITY_TRAINER_NIGHTLY_COMPARISON_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/model_store.h"
#include "trainer/als/options.h"
#include "trainer/data/csr.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/nightly/live_model.h"
#include "trainer/training_job.h"

namespace affinity {

struct ComparisonPlan {
  CsrMatrix train;  // the candidate's training data
  CsrMatrix test;   // held out from both; empty: nothing to compare on
  // The live version in the data's indices (unset: first version).
  std::optional<AlignedLiveModel> live;
  // Set when the live version's recipe is retrained on `train` and that
  // model, not the stored vectors, is compared.
  std::optional<AlsOptions> live_recipe;
  // In words, for the log and the report.
  std::string description;
};

absl::StatusOr<ComparisonPlan> PlanComparison(const Interactions& data,
                                              const TrainingJobConfig& config,
                                              const storage::ModelStore& store,
                                              std::optional<uint64_t> live_version);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_COMPARISON_PLAN_H_
