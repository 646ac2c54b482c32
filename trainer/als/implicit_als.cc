#include "trainer/als/implicit_als.h"

#include <chrono>
#include <cmath>

#include "trainer/als/gramian.h"
#include "trainer/als/implicit_update.h"

namespace affinity {

ImplicitAls::ImplicitAls(const AlsOptions& options) : AlsTrainer(options) {}

absl::Status ImplicitAls::Init(const CsrMatrix& user_items) {
  if (absl::Status status =
          CheckInteractions(user_items, /*require_nonnegative=*/true);
      !status.ok()) {
    return status;
  }
  user_items_ = &user_items;
  InitFactors(user_items, &item_users_, &users_, &items_);
  double weight_sum = 0;
  for (float w : user_items.values()) weight_sum += w;
  total_confidence_ =
      static_cast<double>(user_items.rows()) * user_items.cols() +
      static_cast<double>(options_.alpha) * weight_sum;
  item_gram_valid_ = false;
  iterations_done_ = 0;
  cholesky_failures_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<IterationStats> ImplicitAls::RunIteration() {
  if (user_items_ == nullptr) {
    return absl::FailedPreconditionError(
        "ImplicitAls::RunIteration called before a successful Init");
  }
  const float reg = options_.regularization;
  const float alpha = options_.alpha;
  const int threads = options_.threads;
  const auto start = std::chrono::steady_clock::now();
  if (!item_gram_valid_) item_gram_ = Gramian(items_, reg, threads);
  const bool cg = options_.solver == AlsSolver::kConjugateGradient;
  int64_t failures = 0;
  if (cg) {
    UpdateImplicitCg(*user_items_, items_, item_gram_, alpha,
                     options_.cg_steps, threads, &users_);
  } else {
    failures += UpdateImplicitCholesky(*user_items_, items_, item_gram_, alpha,
                                       threads, &users_);
  }
  const Eigen::MatrixXf user_gram = Gramian(users_, reg, threads);
  if (cg) {
    UpdateImplicitCg(item_users_, users_, user_gram, alpha, options_.cg_steps,
                     threads, &items_);
  } else {
    failures += UpdateImplicitCholesky(item_users_, users_, user_gram, alpha,
                                       threads, &items_);
  }
  cholesky_failures_ += failures;
  // Needed by the loss and by the next user half-iteration.
  item_gram_ = Gramian(items_, reg, threads);
  item_gram_valid_ = true;

  IterationStats stats;
  stats.failed_solves = failures;
  stats.iteration = ++iterations_done_;
  stats.seconds = SecondsSince(start);
  const auto loss_start = std::chrono::steady_clock::now();
  stats.loss = ImplicitObjective(*user_items_, users_, items_, item_gram_,
                                 alpha, reg, threads) /
               total_confidence_;
  stats.loss_seconds = SecondsSince(loss_start);
  return stats;
}

FoldedFactors ImplicitAls::Folded() const { return {users_, items_}; }

}  // namespace affinity
