// Small implicit-ALS models for server tests: random item factors Y, random
// user histories, and user factors X solved exactly from the implicit
// normal equations for that Y (what a converged trainer produces for fixed
// Y), published through the model store's writer API.
#ifndef AFFINITY_TESTS_SERVER_TEST_MODEL_H_
#define AFFINITY_TESTS_SERVER_TEST_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model_store.h"

namespace affinity::server::testing {

struct TestModel {
  int users = 0;
  int items = 0;
  int dims = 0;
  float alpha = 2.0f;
  float regularization = 0.1f;
  std::string algorithm = "implicit_als_cholesky";
  std::vector<float> item_factors;               // items x dims
  std::vector<float> user_factors;               // users x dims
  std::vector<std::vector<uint32_t>> seen;       // per user, ascending
  std::vector<uint32_t> popular;                 // most popular first

  static std::string ItemId(uint32_t i) { return "item-" + std::to_string(i); }
  static std::string UserId(uint32_t u) { return "user-" + std::to_string(u); }
  const float* item(uint32_t i) const { return item_factors.data() + size_t{i} * dims; }
  const float* user(uint32_t u) const { return user_factors.data() + size_t{u} * dims; }
};

// Seen items per user are drawn at random (1..max_seen); every weight is 1
// with the "raw" transform, so c = 1 + alpha.
TestModel MakeImplicitModel(uint32_t seed, int users, int items, int dims, int max_seen);

// Solves (Y^T Y + sum (c-1) y y^T + lambda I) x = sum c y for one user.
std::vector<float> SolveImplicitUser(const TestModel& model,
                                     const std::vector<uint32_t>& seen);

// Writes and publishes the model; returns the new version.
absl::StatusOr<uint64_t> Publish(storage::ModelStore* store, const TestModel& model);

// Brute-force top-k by inner product (double), skipping `excluded`.
std::vector<std::pair<uint32_t, double>> BruteForceTopK(const TestModel& model,
                                                        const std::vector<float>& query,
                                                        size_t k,
                                                        const std::vector<uint32_t>& excluded);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_TEST_MODEL_H_
