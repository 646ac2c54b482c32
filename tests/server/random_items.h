// Random query and item vectors for scorer tests: i.i.d. standard normal
// values from the caller's generator (so a seed gives the same data).
#ifndef AFFINITY_TESTS_SERVER_RANDOM_ITEMS_H_
#define AFFINITY_TESTS_SERVER_RANDOM_ITEMS_H_

#include <memory>
#include <random>
#include <vector>

#include "server/scoring/item_matrix.h"

namespace affinity::server::testing {

inline std::vector<float> RandomVector(std::mt19937* rng, size_t n) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(*rng);
  return v;
}

inline std::shared_ptr<const ItemMatrix> RandomItems(std::mt19937* rng, size_t rows,
                                                     size_t dims) {
  return ItemMatrix::FromDense(RandomVector(rng, rows * dims), rows, dims);
}

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_RANDOM_ITEMS_H_
