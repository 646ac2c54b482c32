#include "trainer/als/options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace affinity {

absl::StatusOr<AlsSolver> ParseAlsSolver(absl::string_view name) {
  if (name == "cg") return AlsSolver::kConjugateGradient;
  if (name == "cholesky") return AlsSolver::kCholesky;
  if (name == "explicit") return AlsSolver::kExplicit;
  return absl::InvalidArgumentError(absl::StrCat(
      "AlsOptions.solver: unknown solver '", name,
      "', expected one of cg, cholesky, explicit"));
}

absl::string_view AlsSolverName(AlsSolver solver) {
  switch (solver) {
    case AlsSolver::kConjugateGradient:
      return "cg";
    case AlsSolver::kCholesky:
      return "cholesky";
    case AlsSolver::kExplicit:
      return "explicit";
  }
  return "unknown";
}

namespace {

absl::Status Invalid(absl::string_view field, absl::string_view expected,
                     double value) {
  return absl::InvalidArgumentError(absl::StrCat(
      "AlsOptions.", field, " must be ", expected, ", got ", value));
}

}  // namespace

absl::Status ValidateOptions(const AlsOptions& options) {
  constexpr int kMaxFactors = 4096;
  if (options.factors < 1 || options.factors > kMaxFactors) {
    return Invalid("factors", absl::StrCat("in [1, ", kMaxFactors, "]"),
                   options.factors);
  }
  if (options.iterations < 1) {
    return Invalid("iterations", ">= 1", options.iterations);
  }
  if (!std::isfinite(options.regularization) || options.regularization < 0) {
    return Invalid("regularization", "finite and >= 0",
                   options.regularization);
  }
  if (options.solver != AlsSolver::kConjugateGradient &&
      !(options.regularization > 0)) {
    return Invalid("regularization",
                   "> 0 for the cholesky and explicit solvers",
                   options.regularization);
  }
  if (!std::isfinite(options.alpha) || options.alpha < 0) {
    return Invalid("alpha", "finite and >= 0", options.alpha);
  }
  switch (options.solver) {
    case AlsSolver::kConjugateGradient:
    case AlsSolver::kCholesky:
    case AlsSolver::kExplicit:
      break;
    default:
      return Invalid("solver", "one of cg, cholesky, explicit",
                     static_cast<int>(options.solver));
  }
  if (options.cg_steps < 1) {
    return Invalid("cg_steps", ">= 1", options.cg_steps);
  }
  constexpr int kMaxThreads = 1024;
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return Invalid("threads", absl::StrCat("in [1, ", kMaxThreads, "]"),
                   options.threads);
  }
  if (!std::isfinite(options.init_scale) || !(options.init_scale > 0)) {
    return Invalid("init_scale", "finite and > 0", options.init_scale);
  }
  return absl::OkStatus();
}

}  // namespace affinity
