#include "trainer/als/explicit_als.h"

#include <chrono>
#include <cmath>

#include "trainer/als/explicit_update.h"

namespace affinity {

ExplicitAls::ExplicitAls(const AlsOptions& options) : AlsTrainer(options) {}

absl::Status ExplicitAls::Init(const CsrMatrix& user_items) {
  if (absl::Status status =
          CheckInteractions(user_items, /*require_nonnegative=*/false);
      !status.ok()) {
    return status;
  }
  if (user_items.nnz() == 0) {
    return absl::InvalidArgumentError(
        "user_items has no ratings; the explicit solver needs at least one");
  }
  user_items_ = &user_items;
  InitFactors(user_items, &item_users_, &users_, &items_);
  double sum = 0;
  for (float r : user_items.values()) sum += r;
  global_mean_ = static_cast<float>(sum / user_items.nnz());
  user_bias_.setZero(user_items.rows());
  item_bias_.setZero(user_items.cols());
  iterations_done_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<IterationStats> ExplicitAls::RunIteration() {
  if (user_items_ == nullptr) {
    return absl::FailedPreconditionError(
        "ExplicitAls::RunIteration called before a successful Init");
  }
  const float reg = options_.regularization;
  const int threads = options_.threads;
  const auto start = std::chrono::steady_clock::now();
  IterationStats stats;
  stats.failed_solves += UpdateExplicit(*user_items_, items_, item_bias_, global_mean_,
                                        reg, threads, &users_, &user_bias_);
  stats.failed_solves += UpdateExplicit(item_users_, users_, user_bias_, global_mean_,
                                        reg, threads, &items_, &item_bias_);
  stats.iteration = ++iterations_done_;
  stats.seconds = SecondsSince(start);
  const auto loss_start = std::chrono::steady_clock::now();
  stats.loss = std::sqrt(ExplicitSquaredError(*user_items_, users_,
                                              user_bias_, items_, item_bias_,
                                              global_mean_, threads) /
                         static_cast<double>(user_items_->nnz()));
  stats.loss_seconds = SecondsSince(loss_start);
  return stats;
}

FoldedFactors ExplicitAls::Folded() const {
  const int64_t f = options_.factors;
  FoldedFactors folded;
  folded.users.resize(users_.rows(), f + 2);
  folded.users.leftCols(f) = users_;
  folded.users.col(f).setOnes();
  folded.users.col(f + 1) = user_bias_.array() + global_mean_;
  folded.items.resize(items_.rows(), f + 2);
  folded.items.leftCols(f) = items_;
  folded.items.col(f) = item_bias_;
  folded.items.col(f + 1).setOnes();
  return folded;
}

}  // namespace affinity
