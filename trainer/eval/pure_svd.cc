#include "trainer/eval/pure_svd.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <new>

#include <Eigen/Core>
#include <armadillo>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace affinity {
namespace eval {
namespace {

absl::Status CheckInput(const CsrMatrix& train, const PureSvdOptions& options) {
  if (options.factors < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PureSvdOptions.factors must be >= 1, got ", options.factors));
  }
  if (train.rows() < 2 || train.cols() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PureSVD needs a training matrix of at least 2 x 2 (f < min(rows, "
        "cols)), got ",
        train.rows(), " x ", train.cols()));
  }
  if (train.nnz() == 0) {
    return absl::InvalidArgumentError(
        "PureSVD needs a training matrix with stored entries, got none");
  }
  const std::vector<float>& values = train.values();
  for (size_t e = 0; e < values.size(); ++e) {
    if (!std::isfinite(values[e])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PureSVD training matrix entry ", e, " has non-finite value ",
          values[e], ", expected a finite number"));
    }
  }
  return absl::OkStatus();
}

// R^T (cols x rows) in Armadillo's CSC layout: R's CSR arrays as they are,
// widened to Armadillo's types. The widened arrays are freed on return,
// before the decomposition allocates.
arma::sp_mat TransposeAsArma(const CsrMatrix& train) {
  arma::uvec row_indices(train.nnz());
  arma::vec values(train.nnz());
  for (int64_t e = 0; e < train.nnz(); ++e) {
    row_indices[e] = train.indices()[e];
    values[e] = train.values()[e];
  }
  arma::uvec col_ptrs(train.rows() + 1);
  for (int64_t u = 0; u <= train.rows(); ++u) {
    col_ptrs[u] = static_cast<arma::uword>(train.indptr()[u]);
  }
  return arma::sp_mat(row_indices, col_ptrs, values,
                      static_cast<arma::uword>(train.cols()),
                      static_cast<arma::uword>(train.rows()));
}

}  // namespace

absl::StatusOr<PureSvdFactors> FitPureSvd(const CsrMatrix& train,
                                          const PureSvdOptions& options) {
  if (absl::Status s = CheckInput(train, options); !s.ok()) return s;
  const absl::Time start = absl::Now();
  const int f = static_cast<int>(std::min<int64_t>(
      options.factors, std::min(train.rows(), train.cols()) - 1));

  arma::mat left;   // cols x f: V, the right singular vectors of R
  arma::vec sigma;  // f, descending
  arma::mat right;  // rows x f: U
  try {
    const arma::sp_mat rt = TransposeAsArma(train);
    if (!arma::svds(left, sigma, right, rt, static_cast<arma::uword>(f))) {
      return absl::InternalError(absl::StrCat(
          "PureSVD: Armadillo svds failed to converge for f = ", f, " on a ",
          train.rows(), " x ", train.cols(), " matrix with ", train.nnz(),
          " entries"));
    }
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "PureSVD: out of memory in Armadillo svds for f = ", f, " on a ",
        train.rows(), " x ", train.cols(), " matrix with ", train.nnz(),
        " entries"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("PureSVD: Armadillo svds failed: ", e.what()));
  }
  if (static_cast<int>(sigma.n_elem) != f || left.n_cols != sigma.n_elem ||
      static_cast<int64_t>(left.n_rows) != train.cols()) {
    return absl::InternalError(absl::StrCat(
        "PureSVD: Armadillo svds returned ", sigma.n_elem,
        " singular values and a ", left.n_rows, " x ", left.n_cols,
        " basis, expected ", f, " and ", train.cols(), " x ", f));
  }

  // V row-major (one item per row) for the sparse products below.
  using RowMajorMatrixXd =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajorMatrixXd v =
      Eigen::Map<const Eigen::MatrixXd>(left.memptr(), left.n_rows, f);
  left.reset();

  PureSvdFactors out;
  out.factors = f;
  out.singular_values.assign(sigma.begin(), sigma.end());
  out.items = v.cast<float>();
  // users = R V, one sparse row at a time, summed in double.
  out.users.resize(train.rows(), f);
  Eigen::RowVectorXd acc(f);
  for (int64_t u = 0; u < train.rows(); ++u) {
    const CsrMatrix::Row row = train.row(u);
    acc.setZero();
    for (size_t e = 0; e < row.size(); ++e) {
      acc.noalias() += static_cast<double>(row.values[e]) * v.row(row.indices[e]);
    }
    out.users.row(u) = acc.cast<float>();
  }
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return out;
}

}  // namespace eval
}  // namespace affinity
