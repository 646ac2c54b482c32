#include "trainer/als/als_trainer.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

#include "trainer/als/explicit_als.h"
#include "trainer/als/factor_init.h"
#include "trainer/als/implicit_als.h"

namespace affinity {

absl::StatusOr<std::vector<IterationStats>> AlsTrainer::Train() {
  std::vector<IterationStats> all;
  all.reserve(options_.iterations);
  for (int it = 0; it < options_.iterations; ++it) {
    absl::StatusOr<IterationStats> stats = RunIteration();
    if (!stats.ok()) return stats.status();
    all.push_back(*stats);
  }
  return all;
}

absl::Status AlsTrainer::CheckInteractions(const CsrMatrix& user_items,
                                           bool require_nonnegative) {
  if (user_items.rows() < 1 || user_items.cols() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user_items must have at least one row and one column, got ",
        user_items.rows(), " x ", user_items.cols()));
  }
  for (int64_t u = 0; u < user_items.rows(); ++u) {
    const CsrMatrix::Row row = user_items.row(u);
    for (size_t k = 0; k < row.size(); ++k) {
      const float v = row.values[k];
      if (!std::isfinite(v) || (require_nonnegative && v < 0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "user_items(", u, ", ", row.indices[k], ") = ", v,
            require_nonnegative ? ": weights must be finite and >= 0"
                                : ": ratings must be finite"));
      }
    }
  }
  return absl::OkStatus();
}

void AlsTrainer::InitFactors(const CsrMatrix& user_items,
                             CsrMatrix* item_users, FactorMatrix* users,
                             FactorMatrix* items) const {
  *item_users = user_items.Transpose();
  const int f = options_.factors;
  const float stddev = options_.init_scale / std::sqrt(static_cast<float>(f));
  std::mt19937_64 rng(options_.seed);
  users->resize(user_items.rows(), f);
  items->resize(user_items.cols(), f);
  FillNormal(stddev, &rng, users);
  FillNormal(stddev, &rng, items);
}

double AlsTrainer::SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

absl::StatusOr<std::unique_ptr<AlsTrainer>> CreateAlsTrainer(
    const AlsOptions& options) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) {
    return status;
  }
  if (options.solver == AlsSolver::kExplicit) {
    return std::unique_ptr<AlsTrainer>(new ExplicitAls(options));
  }
  return std::unique_ptr<AlsTrainer>(new ImplicitAls(options));
}

}  // namespace affinity
