// Options shared by every ALS solver, and their validation. ValidateOptions
// accepts exactly the option sets the solvers can run; anything else is an
// InvalidArgument naming the offending field and the accepted range.
#ifndef AFFINITY_TRAINER_ALS_OPTIONS_H_
#define AFFINITY_TRAINER_ALS_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity {

enum class AlsSolver {
  kConjugateGradient,  // implicit feedback, warm-started CG ("cg")
  kCholesky,           // implicit feedback, exact per-row solve ("cholesky")
  kExplicit,           // explicit ratings with biases ("explicit")
};

// "cg", "cholesky" or "explicit"; anything else is InvalidArgument.
absl::StatusOr<AlsSolver> ParseAlsSolver(absl::string_view name);
absl::string_view AlsSolverName(AlsSolver solver);

struct AlsOptions {
  int factors = 64;                // latent dimension F, >= 1
  int iterations = 15;             // full (user + item) sweeps, >= 1
  float regularization = 0.01f;    // L2 weight, >= 0; > 0 unless cg
  float alpha = 1.0f;              // implicit confidence c = 1 + alpha * w, >= 0
  AlsSolver solver = AlsSolver::kConjugateGradient;
  int cg_steps = 3;                // CG steps per row and half-iteration, >= 1
  int threads = 1;                 // worker threads, >= 1
  uint64_t seed = 42;              // initialization seed
  // Standard deviation of the initial factors is init_scale / sqrt(factors).
  float init_scale = 0.1f;         // > 0
};

// OK, or InvalidArgument("AlsOptions.<field> ...") for the first bad field.
absl::Status ValidateOptions(const AlsOptions& options);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_OPTIONS_H_
