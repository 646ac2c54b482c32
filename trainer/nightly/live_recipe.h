// The training recipe of a stored version, read back from the parameters
// its metadata records, so that the nightly job can retrain it on the same
// split as a candidate when there are no new interactions to compare the
// stored vectors on (e.g. the same data with one parameter changed).
#ifndef AFFINITY_TRAINER_NIGHTLY_LIVE_RECIPE_H_
#define AFFINITY_TRAINER_NIGHTLY_LIVE_RECIPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "trainer/als/options.h"

namespace affinity {

// FailedPrecondition saying why when the version was not trained here with
// recorded parameters (e.g. imported factors) or a parameter is unreadable.
// threads is taken from the caller (it does not change the factors).
absl::StatusOr<AlsOptions> RecipeOf(const affinity::v1::ModelMetadata& metadata, int threads);

// "cg, 64 factors, 15 iterations, regularization 0.01, alpha 1" for logs.
std::string DescribeRecipe(const AlsOptions& options);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_LIVE_RECIPE_H_
