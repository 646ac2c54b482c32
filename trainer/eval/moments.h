// Mean, sample variance and the 95% confidence half-width of the mean of a
// stream of values, for the evaluation's confidence intervals.
//
// Running moments use Welford's update and Chan et al.'s pairwise merge, so
// they stay accurate when the variance is small against the mean. Results
// are a pure function of the values and of the order in which they are
// added and merged: a fixed order gives bit-identical results. Not
// thread-safe; give each thread its own instance and merge afterwards.
//
// The confidence half-width is the normal approximation
//   ci95 = z * s / sqrt(n),  z = 1.959964 (the 97.5% normal quantile),
// s the sample standard deviation (n - 1 denominator); 0 when n < 2.
#ifndef AFFINITY_TRAINER_EVAL_MOMENTS_H_
#define AFFINITY_TRAINER_EVAL_MOMENTS_H_

#include <cstdint>

namespace affinity {
namespace eval {

// Two-sided 95% quantile of the standard normal distribution.
inline constexpr double kZ95 = 1.959963984540054;

// z * sample_sd / sqrt(n); 0 when n < 2.
double Ci95HalfWidth(double sample_sd, int64_t n);

class RunningMoments {
 public:
  void Add(double x);
  // As if every value added to `other` had been added here, after this
  // instance's own values.
  void Merge(const RunningMoments& other);

  int64_t count() const { return n_; }
  // 0 when empty.
  double mean() const { return mean_; }
  // Sum of squared deviations over (n - 1); 0 when n < 2.
  double sample_variance() const;
  double sample_sd() const;
  // Ci95HalfWidth(sample_sd(), count()).
  double ci95() const;

 private:
  int64_t n_ = 0;
  double mean_ = 0;
  double m2_ = 0;  // sum of squared deviations from the mean
};

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_MOMENTS_H_
