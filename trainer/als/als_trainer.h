// AlsTrainer: the common face of the ALS solvers (implicit CG, implicit
// Cholesky, explicit with biases), chosen by AlsOptions::solver.
//
// Usage:
//   ASSIGN_OR_RETURN(auto trainer, CreateAlsTrainer(options));
//   RETURN_IF_ERROR(trainer->Init(user_items));   // rows users, cols items
//   for (...) ASSIGN_OR_RETURN(IterationStats s, trainer->RunIteration());
//   FoldedFactors model = trainer->Folded();
//
// Init keeps a reference to user_items, which must outlive the trainer (it
// builds and owns the item-major transpose). Results are a deterministic
// function of (options, user_items): the thread count changes the speed,
// not the factors.
#ifndef AFFINITY_TRAINER_ALS_ALS_TRAINER_H_
#define AFFINITY_TRAINER_ALS_ALS_TRAINER_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trainer/als/factors.h"
#include "trainer/als/options.h"
#include "trainer/data/csr.h"

namespace affinity {

struct IterationStats {
  int iteration = 0;         // 1-based count of completed iterations
  double seconds = 0;        // wall time of the two half-iterations
  double loss = 0;           // solver's loss after the iteration (see below)
  double loss_seconds = 0;   // wall time spent evaluating `loss`
  // Rows (users and items) whose exact solve failed in this iteration and
  // that kept their previous vectors: the Cholesky and explicit solvers
  // (0 in practice, they require regularization > 0); always 0 for CG.
  int64_t failed_solves = 0;
};

// Vectors whose dot product is the model's score:
// score(u, i) = users.row(u) . items.row(i).
struct FoldedFactors {
  FactorMatrix users;
  FactorMatrix items;
};

class AlsTrainer {
 public:
  virtual ~AlsTrainer() = default;

  // Validates user_items (finite values; implicit solvers also need weights
  // >= 0; explicit needs at least one rating) and draws the initial
  // factors, N(0, (init_scale / sqrt(factors))^2), from options.seed.
  virtual absl::Status Init(const CsrMatrix& user_items) = 0;

  // One user half-iteration followed by one item half-iteration.
  // Loss: implicit solvers report the full weighted objective
  //   [sum_{all u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)]
  //     / (users * items + alpha * sum w_ui),
  // i.e. divided by the total confidence sum_{all u,i} c_ui; the explicit
  // solver reports the training RMSE. FailedPrecondition before Init.
  virtual absl::StatusOr<IterationStats> RunIteration() = 0;

  // Runs options().iterations iterations.
  absl::StatusOr<std::vector<IterationStats>> Train();

  virtual const FactorMatrix& user_factors() const = 0;
  virtual const FactorMatrix& item_factors() const = 0;

  // Implicit: copies of the factors (F columns). Explicit: F + 2 columns,
  // user' = [x_u, 1, mu + b_u], item' = [y_i, b_i, 1].
  virtual FoldedFactors Folded() const = 0;

  const AlsOptions& options() const { return options_; }

 protected:
  explicit AlsTrainer(const AlsOptions& options) : options_(options) {}

  // InvalidArgument naming the first bad entry (row, column, value) if a
  // value is not finite, or negative when require_nonnegative; also if the
  // matrix has no rows or no columns.
  static absl::Status CheckInteractions(const CsrMatrix& user_items,
                                        bool require_nonnegative);

  // The part of Init every solver shares, once user_items is valid: writes
  // the item-major transpose of user_items to *item_users, then draws
  // *users (rows x factors) and after it *items (cols x factors), every
  // entry N(0, (init_scale / sqrt(factors))^2), from one std::mt19937_64
  // seeded with options().seed.
  void InitFactors(const CsrMatrix& user_items, CsrMatrix* item_users,
                   FactorMatrix* users, FactorMatrix* items) const;

  // Wall-clock seconds elapsed since `start`.
  static double SecondsSince(std::chrono::steady_clock::time_point start);

  AlsOptions options_;
};

// InvalidArgument if ValidateOptions(options) fails.
absl::StatusOr<std::unique_ptr<AlsTrainer>> CreateAlsTrainer(
    const AlsOptions& options);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_ALS_TRAINER_H_
