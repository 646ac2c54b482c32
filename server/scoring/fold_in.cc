#include "server/scoring/fold_in.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Cholesky>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {

absl::StatusOr<FoldInParams> FoldInParamsFromMetadata(
    const affinity::v1::ModelMetadata& metadata) {
  FoldInParams params;
  params.alpha = metadata.alpha();
  params.regularization = metadata.regularization();
  if (!std::isfinite(params.alpha) || params.alpha < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model metadata alpha: expected a finite value >= 0, got ", params.alpha));
  }
  if (!std::isfinite(params.regularization) || params.regularization < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model metadata regularization: expected a finite value >= 0, got ",
                     params.regularization));
  }
  const std::string& t = metadata.weight_transform();
  if (t.empty() || t == "raw") {
    params.transform = WeightTransform::kRaw;
  } else if (t == "log1p") {
    params.transform = WeightTransform::kLog1p;
  } else if (t == "binary") {
    params.transform = WeightTransform::kBinary;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "model metadata weight_transform: expected raw, log1p or binary, got \"", t, "\""));
  }
  return params;
}

double Confidence(const FoldInParams& params, float weight) {
  double w = weight;
  switch (params.transform) {
    case WeightTransform::kRaw:
      break;
    case WeightTransform::kLog1p:
      w = std::log1p(w);
      break;
    case WeightTransform::kBinary:
      w = w > 0 ? 1.0 : 0.0;
      break;
  }
  return 1.0 + double{params.alpha} * w;
}

Eigen::MatrixXd ItemGram(const ItemMatrix& items) {
  const Eigen::Index f = static_cast<Eigen::Index>(items.dims());
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
             Eigen::Aligned64, Eigen::OuterStride<>>
      y(items.data(), static_cast<Eigen::Index>(items.rows()), f,
        Eigen::OuterStride<>(static_cast<Eigen::Index>(items.stride())));
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(f, f);
  // Blocks of rows in float, accumulated in double to bound rounding.
  constexpr Eigen::Index kBlock = 4096;
  for (Eigen::Index first = 0; first < y.rows(); first += kBlock) {
    const Eigen::Index n = std::min(kBlock, y.rows() - first);
    Eigen::MatrixXf part = Eigen::MatrixXf::Zero(f, f);
    part.selfadjointView<Eigen::Lower>().rankUpdate(y.middleRows(first, n).transpose());
    gram += part.selfadjointView<Eigen::Lower>().toDenseMatrix().cast<double>();
  }
  return gram;
}

absl::StatusOr<std::vector<float>> FoldInUser(
    const ItemMatrix& items, const Eigen::MatrixXd& gram,
    const FoldInParams& params, absl::Span<const WeightedItem> interactions) {
  const Eigen::Index f = static_cast<Eigen::Index>(items.dims());
  if (gram.rows() != f || gram.cols() != f) {
    return absl::InternalError(absl::StrCat("fold-in: gram is ", gram.rows(), "x",
                                            gram.cols(), ", expected ", f, "x", f));
  }
  std::vector<WeightedItem> merged(interactions.begin(), interactions.end());
  std::sort(merged.begin(), merged.end(),
            [](const WeightedItem& a, const WeightedItem& b) { return a.index < b.index; });
  Eigen::MatrixXd a = gram;
  a.diagonal().array() += params.regularization;
  Eigen::VectorXd b = Eigen::VectorXd::Zero(f);
  for (size_t i = 0; i < merged.size();) {
    const uint32_t index = merged[i].index;
    double weight = 0;
    for (; i < merged.size() && merged[i].index == index; ++i) weight += merged[i].weight;
    if (index >= items.rows()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fold-in: item index ", index, " >= items ", items.rows()));
    }
    const double c = Confidence(params, static_cast<float>(weight));
    const Eigen::Map<const Eigen::VectorXf> y(items.row(index), f);
    const Eigen::VectorXd yd = y.cast<double>();
    a.selfadjointView<Eigen::Lower>().rankUpdate(yd, c - 1.0);
    b += c * yd;
  }
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  if (llt.info() != Eigen::Success) {
    return absl::FailedPreconditionError(
        "fold-in: normal equations are not positive definite (regularization too small?)");
  }
  const Eigen::VectorXd x = llt.solve(b);
  std::vector<float> out(static_cast<size_t>(f));
  for (Eigen::Index d = 0; d < f; ++d) out[d] = static_cast<float>(x[d]);
  return out;
}

}  // namespace affinity::server
