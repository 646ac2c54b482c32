#include "trainer/eval/moments.h"

#include <cmath>

namespace affinity {
namespace eval {

double Ci95HalfWidth(double sample_sd, int64_t n) {
  if (n < 2) return 0;
  return kZ95 * sample_sd / std::sqrt(static_cast<double>(n));
}

void RunningMoments::Add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
}

void RunningMoments::Merge(const RunningMoments& other) {
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n_);
  const double nb = static_cast<double>(other.n_);
  const double n = na + nb;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (nb / n);
  m2_ += other.m2_ + delta * delta * (na * nb / n);
  n_ += other.n_;
}

double RunningMoments::sample_variance() const {
  if (n_ < 2) return 0;
  return m2_ / static_cast<double>(n_ - 1);
}

double RunningMoments::sample_sd() const { return std::sqrt(sample_variance()); }

double RunningMoments::ci95() const { return Ci95HalfWidth(sample_sd(), n_); }

}  // namespace eval
}  // namespace affinity
