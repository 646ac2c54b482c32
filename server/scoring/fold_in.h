// Request-time fold-in for implicit ALS: given fixed item factors Y, solve
//   (Y^T Y + Y^T (C_u - I) Y + lambda I) x_u = Y^T C_u p_u
// for one user, with confidence c = 1 + alpha * transform(w) and p = 1 for
// every interacted item (Hu, Koren & Volinsky 2008). Y^T Y is computed once
// per model (ItemGram); each request only adds the terms of its own items,
// so a fold-in costs O(n F^2 + F^3) for n interactions and F dims.
#ifndef AFFINITY_SERVER_SCORING_FOLD_IN_H_
#define AFFINITY_SERVER_SCORING_FOLD_IN_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {

enum class WeightTransform { kRaw, kLog1p, kBinary };

struct FoldInParams {
  float alpha = 1.0f;
  float regularization = 0.01f;
  WeightTransform transform = WeightTransform::kRaw;
};

// Reads alpha, regularization and weight_transform ("" means "raw").
// InvalidArgument names the field when a value is unusable.
absl::StatusOr<FoldInParams> FoldInParamsFromMetadata(
    const affinity::v1::ModelMetadata& metadata);

// c = 1 + alpha * transform(weight).
double Confidence(const FoldInParams& params, float weight);

// Y^T Y over the first dims() columns of every row.
Eigen::MatrixXd ItemGram(const ItemMatrix& items);

struct WeightedItem {
  uint32_t index = 0;  // row of `items`
  float weight = 0;    // raw interaction weight, >= 0
};

// The user vector (items.dims() floats). Repeated indices are merged by
// adding their raw weights before the transform. FailedPrecondition when the
// system is not positive definite (e.g. regularization 0 with too few items).
absl::StatusOr<std::vector<float>> FoldInUser(
    const ItemMatrix& items, const Eigen::MatrixXd& gram,
    const FoldInParams& params, absl::Span<const WeightedItem> interactions);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_FOLD_IN_H_
