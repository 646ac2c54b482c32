// Calls fn(std::integral_constant<int, K>) with K == factors for the common
// latent sizes (16, 32, 64, 128) and K == Eigen::Dynamic otherwise, so
// kernels can be written once as templates and get fixed-size, fully
// vectorized Eigen code on the sizes that matter.
#ifndef AFFINITY_TRAINER_ALS_FACTOR_DISPATCH_H_
#define AFFINITY_TRAINER_ALS_FACTOR_DISPATCH_H_

#include <type_traits>

#include <Eigen/Core>

namespace affinity {

template <typename Fn>
void DispatchFactors(int factors, Fn&& fn) {
  switch (factors) {
    case 16:
      fn(std::integral_constant<int, 16>());
      return;
    case 32:
      fn(std::integral_constant<int, 32>());
      return;
    case 64:
      fn(std::integral_constant<int, 64>());
      return;
    case 128:
      fn(std::integral_constant<int, 128>());
      return;
    default:
      fn(std::integral_constant<int, Eigen::Dynamic>());
      return;
  }
}

// K + 1 for fixed sizes, Eigen::Dynamic for Eigen::Dynamic.
constexpr int PlusOne(int k) { return k == Eigen::Dynamic ? Eigen::Dynamic : k + 1; }

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_FACTOR_DISPATCH_H_
