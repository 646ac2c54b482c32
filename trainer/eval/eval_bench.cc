// Times EvaluateFactorModel and EvaluatePopularity on random factors and
// uniformly random train/test interactions, and prints the figures.
//
//   bazel run //trainer/eval:eval_bench -- --users=100000 --items=20000 \
//       --factors=64 --threads=2
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"
#include "trainer/eval/factor_model_eval.h"
#include "trainer/eval/popularity_eval.h"

ABSL_FLAG(int64_t, users, 100000, "users (rows)");
ABSL_FLAG(int64_t, items, 20000, "items (columns)");
ABSL_FLAG(int, factors, 64, "factor dimension");
ABSL_FLAG(int, train_per_user, 50, "training items drawn per user");
ABSL_FLAG(int, test_per_user, 5, "held-out items drawn per user");
ABSL_FLAG(int, k, 10, "list length");
ABSL_FLAG(int, threads, 2, "worker threads");
ABSL_FLAG(int, user_block, 256, "users per matrix product");
ABSL_FLAG(int, item_tile, 4096, "items per matrix product");
ABSL_FLAG(int64_t, sample_users, 10000,
          "users of the additional sampled evaluation (0 skips it)");
ABSL_FLAG(uint64_t, seed, 7, "random seed");

namespace {

using affinity::CsrMatrix;
using affinity::FactorMatrix;

// Each row gets up to `per_row` distinct uniformly drawn columns.
CsrMatrix RandomInteractions(int64_t rows, int64_t cols, int per_row,
                             std::mt19937_64& rng) {
  std::uniform_int_distribution<uint32_t> pick(0, cols - 1);
  std::vector<int64_t> indptr{0};
  std::vector<uint32_t> indices;
  indices.reserve(rows * per_row);
  std::vector<uint32_t> row;
  for (int64_t r = 0; r < rows; ++r) {
    row.clear();
    for (int i = 0; i < per_row; ++i) row.push_back(pick(rng));
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    indices.insert(indices.end(), row.begin(), row.end());
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  std::vector<float> values(indices.size(), 1.0f);
  return CsrMatrix(rows, cols, std::move(indptr), std::move(indices),
                   std::move(values));
}

FactorMatrix RandomFactors(int64_t rows, int dims, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 0.1f);
  FactorMatrix m(rows, dims);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

void Print(const char* what, const affinity::eval::RankingMetrics& m,
           absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  std::cout << absl::StrFormat(
      "%-22s %8.2f s  %10.0f users/s  users=%d p@%d=%.5f r=%.5f ndcg=%.5f "
      "map=%.5f coverage=%.4f\n",
      what, seconds, m.users_evaluated / seconds, m.users_evaluated, m.k,
      m.precision, m.recall, m.ndcg, m.map, m.coverage);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t users = absl::GetFlag(FLAGS_users);
  const int64_t items = absl::GetFlag(FLAGS_items);
  const int factors = absl::GetFlag(FLAGS_factors);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));

  absl::Time start = absl::Now();
  const CsrMatrix train =
      RandomInteractions(users, items, absl::GetFlag(FLAGS_train_per_user), rng);
  const CsrMatrix test =
      RandomInteractions(users, items, absl::GetFlag(FLAGS_test_per_user), rng);
  const FactorMatrix user_factors = RandomFactors(users, factors, rng);
  const FactorMatrix item_factors = RandomFactors(items, factors, rng);
  std::cout << absl::StrFormat(
      "data: %d users x %d items x %d factors, train nnz %d, test nnz %d, "
      "generated in %.2f s\n",
      users, items, factors, train.nnz(), test.nnz(),
      absl::ToDoubleSeconds(absl::Now() - start));

  affinity::eval::EvalOptions options;
  options.k = absl::GetFlag(FLAGS_k);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.user_block = absl::GetFlag(FLAGS_user_block);
  options.item_tile = absl::GetFlag(FLAGS_item_tile);
  std::cout << absl::StrFormat("k=%d threads=%d user_block=%d item_tile=%d\n",
                               options.k, options.threads, options.user_block,
                               options.item_tile);

  start = absl::Now();
  auto full = affinity::eval::EvaluateFactorModel(user_factors, item_factors,
                                                  train, test, options);
  if (!full.ok()) {
    std::cerr << full.status() << "\n";
    return 1;
  }
  Print("factor model, all", *full, absl::Now() - start);

  if (absl::GetFlag(FLAGS_sample_users) > 0) {
    affinity::eval::EvalOptions sampled = options;
    sampled.max_users = absl::GetFlag(FLAGS_sample_users);
    start = absl::Now();
    auto part = affinity::eval::EvaluateFactorModel(user_factors, item_factors,
                                                    train, test, sampled);
    if (!part.ok()) {
      std::cerr << part.status() << "\n";
      return 1;
    }
    Print("factor model, sampled", *part, absl::Now() - start);
  }

  start = absl::Now();
  auto popular = affinity::eval::EvaluatePopularity(train, test, options);
  if (!popular.ok()) {
    std::cerr << popular.status() << "\n";
    return 1;
  }
  Print("popularity", *popular, absl::Now() - start);
  return 0;
}
