// ExplicitAls: rating-prediction ALS with user and item biases,
//   r_ui ~ mu + b_u + b_i + x_u . y_i,
// minimising the squared error over stored ratings plus
// reg (|x|^2 + |y|^2 + b_u^2 + b_i^2). mu is the mean training rating
// (fixed); each half-iteration solves [x_u, b_u] (resp. [y_i, b_i]) exactly,
// see explicit_update.h. RunIteration's loss is the training RMSE.
#ifndef AFFINITY_TRAINER_ALS_EXPLICIT_ALS_H_
#define AFFINITY_TRAINER_ALS_EXPLICIT_ALS_H_

#include "trainer/als/als_trainer.h"

namespace affinity {

class ExplicitAls : public AlsTrainer {
 public:
  // options must pass ValidateOptions (CreateAlsTrainer checks).
  explicit ExplicitAls(const AlsOptions& options);

  absl::Status Init(const CsrMatrix& user_items) override;
  absl::StatusOr<IterationStats> RunIteration() override;

  const FactorMatrix& user_factors() const override { return users_; }
  const FactorMatrix& item_factors() const override { return items_; }
  const FactorVector& user_bias() const { return user_bias_; }
  const FactorVector& item_bias() const { return item_bias_; }
  float global_mean() const { return global_mean_; }

  // F + 2 columns: user' = [x_u, 1, mu + b_u], item' = [y_i, b_i, 1], so
  // user' . item' = mu + b_u + b_i + x_u . y_i.
  FoldedFactors Folded() const override;

 private:
  const CsrMatrix* user_items_ = nullptr;
  CsrMatrix item_users_;
  FactorMatrix users_;
  FactorMatrix items_;
  FactorVector user_bias_;
  FactorVector item_bias_;
  float global_mean_ = 0;
  int iterations_done_ = 0;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_EXPLICIT_ALS_H_
