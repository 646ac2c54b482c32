// Seeded initial factors: every entry N(0, stddev^2), drawn row by row from
// a std::mt19937_64, so the same (seed, shape) gives the same matrix.
#ifndef AFFINITY_TRAINER_ALS_FACTOR_INIT_H_
#define AFFINITY_TRAINER_ALS_FACTOR_INIT_H_

#include <cstdint>
#include <random>

#include "trainer/als/factors.h"

namespace affinity {

void FillNormal(float stddev, std::mt19937_64* rng, FactorMatrix* factors);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_FACTOR_INIT_H_
