#include "trainer/eval/pure_svd.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <new>
#include <thread>

#include <Eigen/Core>
#include <armadillo>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/als/parallel_for.h"
#include "trainer/eval/randomized_svd.h"

namespace affinity {
namespace eval {
namespace {

absl::Status CheckInput(const CsrMatrix& train, const PureSvdOptions& options) {
  if (options.factors < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PureSvdOptions.factors must be >= 1, got ", options.factors));
  }
  if (options.oversampling < 0 || options.power_iterations < 0 ||
      options.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PureSvdOptions.oversampling, .power_iterations and .threads must be "
        ">= 0, got ",
        options.oversampling, ", ", options.power_iterations, " and ",
        options.threads));
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

// V (cols x f) and sigma from arma::svds.
absl::Status SvdsRightSingular(const CsrMatrix& train, int f, DenseBlock* v,
                               std::vector<double>* sigma) {
  arma::mat left;    // cols x f: V, the right singular vectors of R
  arma::vec values;  // f, descending
  arma::mat right;   // rows x f: U
  try {
    const arma::sp_mat rt = TransposeAsArma(train);
    if (!arma::svds(left, values, right, rt, static_cast<arma::uword>(f))) {
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
  if (static_cast<int>(values.n_elem) != f || left.n_cols != values.n_elem ||
      static_cast<int64_t>(left.n_rows) != train.cols()) {
    return absl::InternalError(absl::StrCat(
        "PureSVD: Armadillo svds returned ", values.n_elem,
        " singular values and a ", left.n_rows, " x ", left.n_cols,
        " basis, expected ", f, " and ", train.cols(), " x ", f));
  }
  *v = Eigen::Map<const Eigen::MatrixXd>(left.memptr(), left.n_rows, f);
  sigma->assign(values.begin(), values.end());
  return absl::OkStatus();
}

// users = R V, one sparse row at a time, summed in double; each row is
// computed by one worker, so the result does not depend on `threads`.
FactorMatrix UserFactors(const CsrMatrix& train, const DenseBlock& v,
                         int threads) {
  const int64_t f = v.cols();
  FactorMatrix users(train.rows(), f);
  ParallelFor(train.rows(), threads, 1024,
              [&](int64_t begin, int64_t end, int) {
                Eigen::RowVectorXd acc(f);
                for (int64_t u = begin; u < end; ++u) {
                  const CsrMatrix::Row row = train.row(u);
                  acc.setZero();
                  for (size_t e = 0; e < row.size(); ++e) {
                    acc.noalias() +=
                        static_cast<double>(row.values[e]) * v.row(row.indices[e]);
                  }
                  users.row(u) = acc.cast<float>();
                }
              });
  return users;
}

}  // namespace

const char* PureSvdSolverName(PureSvdSolver solver) {
  switch (solver) {
    case PureSvdSolver::kRandomized:
      return "randomized";
    case PureSvdSolver::kSvds:
      return "svds";
  }
  return "unknown";
}

absl::StatusOr<PureSvdFactors> FitPureSvd(const CsrMatrix& train,
                                          const PureSvdOptions& options) {
  if (absl::Status s = CheckInput(train, options); !s.ok()) return s;
  const absl::Time start = absl::Now();
  const int f = static_cast<int>(std::min<int64_t>(
      options.factors, std::min(train.rows(), train.cols()) - 1));
  const int threads =
      options.threads > 0
          ? options.threads
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  PureSvdFactors out;
  out.factors = f;
  out.solver = options.solver;
  DenseBlock v;
  if (options.solver == PureSvdSolver::kSvds) {
    if (absl::Status s = SvdsRightSingular(train, f, &v, &out.singular_values);
        !s.ok()) {
      return s;
    }
  } else {
    RandomizedSvdOptions randomized;
    randomized.rank = f;
    randomized.oversampling = options.oversampling;
    randomized.power_iterations = options.power_iterations;
    randomized.seed = options.seed;
    randomized.threads = threads;
    try {
      RightSingularPairs pairs = RandomizedRightSingular(train, randomized);
      v = std::move(pairs.vectors);
      out.singular_values = std::move(pairs.values);
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "PureSVD: out of memory in the randomized SVD for f = ", f, " on a ",
          train.rows(), " x ", train.cols(), " matrix with ", train.nnz(),
          " entries"));
    }
  }
  out.items = v.cast<float>();
  out.users = UserFactors(train, v, threads);
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return out;
}

}  // namespace eval
}  // namespace affinity
