#include "trainer/nightly/comparison_plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/als_run.h"
#include "trainer/data/holdout.h"
#include "trainer/nightly/comparison_split.h"
#include "trainer/nightly/live_recipe.h"

namespace affinity {
namespace {

std::string DescribeHoldout(const HoldoutOptions& holdout, int64_t held_out) {
  return absl::StrFormat("a %s holdout of %.0f%% of each user's interactions (%d interactions)",
                         holdout.strategy == HoldoutStrategy::kTime ? "latest-by-time" : "random",
                         holdout.test_fraction * 100, held_out);
}

// The live version's recipe retrained on the --holdout split, when nothing
// newer holds out; leaves `plan` as it is (and says why) when it cannot.
absl::Status PlanRecipeRetrain(const Interactions& data, const TrainingJobConfig& config,
                               ComparisonPlan* plan) {
  const AlignedLiveModel& live = *plan->live;
  auto recipe = RecipeOf(live.metadata, config.als.threads);
  const std::string weight = WeightTransformName(config.reader.weight_transform);
  if (!recipe.ok()) {
    absl::StrAppend(&plan->description, "; ", recipe.status().message());
    return absl::OkStatus();
  }
  if (live.metadata.weight_transform() != weight) {
    absl::StrAppend(&plan->description, "; live version ", live.version, " used --weight=",
                    live.metadata.weight_transform(), ", this run ", weight,
                    ", so its recipe cannot be retrained on the same matrix");
    return absl::OkStatus();
  }
  if (config.holdout.test_fraction <= 0) return absl::OkStatus();
  auto holdout = SplitHoldout(data.matrix, data.timestamps, config.holdout);
  if (!holdout.ok()) return holdout.status();
  plan->train = std::move(holdout->train);
  plan->test = std::move(holdout->test);
  plan->live_recipe = *recipe;
  plan->description = absl::StrFormat(
      "no interactions newer than live version %d's data, so its recipe (%s) is retrained "
      "beside the candidate on the same split: %s",
      live.version, DescribeRecipe(*recipe), DescribeHoldout(config.holdout, plan->test.nnz()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ComparisonPlan> PlanComparison(const Interactions& data,
                                              const TrainingJobConfig& config,
                                              const storage::ModelStore& store,
                                              std::optional<uint64_t> live_version) {
  ComparisonPlan plan;
  if (!live_version.has_value()) {
    if (config.holdout.test_fraction <= 0) {
      plan.train = data.matrix;
      plan.description = "first version, --holdout=0: not evaluated";
      return plan;
    }
    auto split = SplitHoldout(data.matrix, data.timestamps, config.holdout);
    if (!split.ok()) return split.status();
    plan.train = std::move(split->train);
    plan.test = std::move(split->test);
    plan.description =
        absl::StrCat("first version: ", DescribeHoldout(config.holdout, plan.test.nnz()));
    return plan;
  }
  auto reader = store.OpenVersion(*live_version);
  if (!reader.ok()) return reader.status();
  const bool by_time = !data.timestamps.empty() && (*reader)->metadata().has_timestamps();
  auto aligned =
      LoadAlignedLiveModel(**reader, data.user_ids, data.item_ids, /*with_seen=*/!by_time);
  if (!aligned.ok()) return aligned.status();
  plan.live = *std::move(aligned);
  AlignedLiveModel& live = *plan.live;
  ComparisonSplit split;
  if (by_time) {
    const int64_t after = live.metadata.data_max_timestamp();
    split = SplitNewerThan(data.matrix, data.timestamps, after, live.known_users);
    plan.description = absl::StrFormat(
        "interactions newer than live version %d's data (timestamp > %d)", live.version, after);
  } else {
    split = SplitNotIn(data.matrix, live.seen, live.known_users);
    plan.description = absl::StrFormat(
        "interactions absent from live version %d's data (no usable timestamps)", live.version);
  }
  live.seen = CsrMatrix();
  plan.train = std::move(split.train);
  plan.test = std::move(split.test);
  absl::StrAppendFormat(&plan.description, ": %d held-out interactions of %d users it knows",
                        plan.test.nnz(), split.test_users);
  if (plan.test.nnz() == 0) {
    if (absl::Status s = PlanRecipeRetrain(data, config, &plan); !s.ok()) return s;
  }
  return plan;
}

}  // namespace affinity
