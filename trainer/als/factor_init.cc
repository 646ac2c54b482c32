#include "trainer/als/factor_init.h"

namespace affinity {

void FillNormal(float stddev, std::mt19937_64* rng, FactorMatrix* factors) {
  std::normal_distribution<float> normal(0.0f, stddev);
  float* data = factors->data();
  const int64_t size = factors->size();
  for (int64_t k = 0; k < size; ++k) data[k] = normal(*rng);
}

}  // namespace affinity
