// ImplicitAls: implicit-feedback ALS (Hu, Koren & Volinsky 2008) with the
// conjugate-gradient or the exact Cholesky per-row solver
// (AlsOptions::solver). See AlsTrainer for the contract and
// implicit_update.h for the model. Y^T Y is computed once per
// half-iteration; the item Gramian computed for the loss is reused by the
// next user half-iteration.
#ifndef AFFINITY_TRAINER_ALS_IMPLICIT_ALS_H_
#define AFFINITY_TRAINER_ALS_IMPLICIT_ALS_H_

#include <Eigen/Core>

#include "trainer/als/als_trainer.h"

namespace affinity {

class ImplicitAls : public AlsTrainer {
 public:
  // options must pass ValidateOptions (CreateAlsTrainer checks).
  explicit ImplicitAls(const AlsOptions& options);

  absl::Status Init(const CsrMatrix& user_items) override;
  absl::StatusOr<IterationStats> RunIteration() override;

  const FactorMatrix& user_factors() const override { return users_; }
  const FactorMatrix& item_factors() const override { return items_; }
  FoldedFactors Folded() const override;

  // Rows the Cholesky solver left unchanged because their factorization
  // failed, summed over all iterations so far (0 in practice: options
  // require regularization > 0 for that solver).
  int64_t cholesky_failures() const { return cholesky_failures_; }

 private:
  const CsrMatrix* user_items_ = nullptr;
  CsrMatrix item_users_;
  FactorMatrix users_;
  FactorMatrix items_;
  Eigen::MatrixXf item_gram_;  // items_^T items_ + reg I when valid
  bool item_gram_valid_ = false;
  double total_confidence_ = 0;
  int iterations_done_ = 0;
  int64_t cholesky_failures_ = 0;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_IMPLICIT_ALS_H_
