// Training one ALS model with a progress line per iteration, shared by the
// plain training run and the nightly job (which trains a candidate and,
// after the gate, refits on all the data).
#ifndef AFFINITY_TRAINER_ALS_RUN_H_
#define AFFINITY_TRAINER_ALS_RUN_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/als/als_trainer.h"
#include "trainer/data/csr.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/eval/eval_options.h"

namespace affinity {

// "implicit_als_cg", "implicit_als_cholesky" or "explicit_als".
std::string AlgorithmName(AlsSolver solver);
// "raw", "log1p" or "binary".
std::string WeightTransformName(WeightTransform transform);
double Median(std::vector<double> values);

// The vectors a trainer's model scores with: its factors as they are
// (implicit, no copy) or with the biases folded in (explicit). Keeps a
// reference to the trainer, which must outlive it.
class ScoringFactors {
 public:
  explicit ScoringFactors(const AlsTrainer& trainer);
  const FactorMatrix& users() const { return users_; }
  const FactorMatrix& items() const { return items_; }

 private:
  std::unique_ptr<FoldedFactors> folded_;
  const FactorMatrix& users_;
  const FactorMatrix& items_;
};

struct AlsRun {
  std::unique_ptr<AlsTrainer> trainer;
  std::vector<double> iteration_seconds;
  double train_seconds = 0;
};

// Trains on `train` (which must outlive the result's trainer). When
// progress_test is not null and progress.max_users > 0, each iteration's
// line shows p@k and ndcg@k on that sample. Iteration rows go to `report`
// when it is not null. Lines start with `label` ("training", "refit").
absl::StatusOr<AlsRun> TrainAls(const CsrMatrix& train, const CsrMatrix* progress_test,
                                const AlsOptions& options,
                                const eval::EvalOptions& progress, const std::string& label,
                                std::ostream& log, affinity::v1::TrainingReport* report);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_RUN_H_
