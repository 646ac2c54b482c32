#include "trainer/eval/user_sample.h"

#include <algorithm>
#include <limits>
#include <random>
#include <utility>

namespace affinity {
namespace eval {
namespace {

// Uniform integer in [0, n), n >= 1, by rejection so that no value is
// favoured; the standard distributions' algorithms are not fixed by the
// standard, the engine's output is.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t n) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % n + 1) % n;
  uint64_t r;
  do {
    r = rng();
  } while (r > limit);
  return r % n;
}

}  // namespace

std::vector<int64_t> SelectEvaluationUsers(const CsrMatrix& test,
                                           int64_t max_users, uint64_t seed) {
  std::vector<int64_t> users;
  const std::vector<int64_t>& indptr = test.indptr();
  for (int64_t u = 0; u < test.rows(); ++u) {
    if (indptr[u + 1] > indptr[u]) users.push_back(u);
  }
  const int64_t n = static_cast<int64_t>(users.size());
  if (max_users <= 0 || max_users >= n) return users;
  // Partial Fisher-Yates: the first max_users slots become a uniform sample.
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < max_users; ++i) {
    const int64_t j = i + static_cast<int64_t>(UniformBelow(rng, n - i));
    std::swap(users[i], users[j]);
  }
  users.resize(max_users);
  std::sort(users.begin(), users.end());
  return users;
}

}  // namespace eval
}  // namespace affinity
