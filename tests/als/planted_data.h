// Small synthetic matrices with known structure for the ALS tests.
#ifndef AFFINITY_TESTS_ALS_PLANTED_DATA_H_
#define AFFINITY_TESTS_ALS_PLANTED_DATA_H_

#include <cstdint>
#include <vector>

#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {
namespace testing_data {

// Uniformly random sparse matrix with about density * rows * cols entries,
// weights uniform in [0.5, 5).
CsrMatrix RandomImplicit(int rows, int cols, double density, uint64_t seed);

// Implicit data with planted clusters: every user and item belongs to one of
// `clusters` groups; each user has `per_user` distinct items, all from its
// group. held_out[u] is one further in-group item of user u, not in the
// matrix.
struct PlantedImplicit {
  CsrMatrix train;
  std::vector<uint32_t> held_out;
};
PlantedImplicit MakePlantedImplicit(int users, int items, int clusters,
                                    int per_user, uint64_t seed);

// Ratings r_ui = mu + b_u + b_i + x_u . y_i from random rank-`rank` factors,
// observed with probability `density`; entries not observed go to `test`
// with probability test_fraction of the observed ones.
struct PlantedRatings {
  CsrMatrix train;
  CsrMatrix test;
};
PlantedRatings MakePlantedRatings(int users, int items, int rank,
                                  double density, double test_fraction,
                                  uint64_t seed);

}  // namespace testing_data
}  // namespace affinity

#endif  // AFFINITY_TESTS_ALS_PLANTED_DATA_H_
