#include "tests/als/planted_data.h"

#include <algorithm>
#include <random>
#include <utility>

namespace affinity {
namespace testing_data {
namespace {

CsrMatrix FromTripletsOrDie(int rows, int cols,
                            const std::vector<uint32_t>& r,
                            const std::vector<uint32_t>& c,
                            const std::vector<float>& v) {
  absl::StatusOr<CsrMatrix> m = CsrMatrix::FromTriplets(rows, cols, r, c, v);
  if (!m.ok()) std::abort();
  return *std::move(m);
}

}  // namespace

CsrMatrix RandomImplicit(int rows, int cols, double density, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<uint32_t> r, c;
  std::vector<float> v;
  for (int u = 0; u < rows; ++u) {
    for (int i = 0; i < cols; ++i) {
      if (unit(rng) < density) {
        r.push_back(u);
        c.push_back(i);
        v.push_back(static_cast<float>(0.5 + 4.5 * unit(rng)));
      }
    }
  }
  return FromTripletsOrDie(rows, cols, r, c, v);
}

PlantedImplicit MakePlantedImplicit(int users, int items, int clusters,
                                    int per_user, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint32_t>> members(clusters);
  for (int i = 0; i < items; ++i) members[i % clusters].push_back(i);
  std::vector<uint32_t> r, c;
  std::vector<float> v;
  PlantedImplicit out;
  out.held_out.resize(users);
  for (int u = 0; u < users; ++u) {
    std::vector<uint32_t> group = members[u % clusters];
    std::shuffle(group.begin(), group.end(), rng);
    for (int k = 0; k < per_user; ++k) {
      r.push_back(u);
      c.push_back(group[k]);
      v.push_back(1.0f + static_cast<float>(rng() % 3));
    }
    out.held_out[u] = group[per_user];
  }
  out.train = FromTripletsOrDie(users, items, r, c, v);
  return out;
}

PlantedRatings MakePlantedRatings(int users, int items, int rank,
                                  double density, double test_fraction,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  FactorMatrix x(users, rank), y(items, rank);
  for (int64_t k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
  for (int64_t k = 0; k < y.size(); ++k) y.data()[k] = normal(rng);
  std::vector<float> bu(users), bi(items);
  for (float& b : bu) b = 0.5f * normal(rng);
  for (float& b : bi) b = 0.5f * normal(rng);
  const float mu = 3.0f;
  std::vector<uint32_t> tr, tc, er, ec;
  std::vector<float> tv, ev;
  for (int u = 0; u < users; ++u) {
    for (int i = 0; i < items; ++i) {
      if (unit(rng) >= density) continue;
      const float rating = mu + bu[u] + bi[i] + x.row(u).dot(y.row(i));
      if (unit(rng) < test_fraction) {
        er.push_back(u);
        ec.push_back(i);
        ev.push_back(rating);
      } else {
        tr.push_back(u);
        tc.push_back(i);
        tv.push_back(rating);
      }
    }
  }
  PlantedRatings out;
  out.train = FromTripletsOrDie(users, items, tr, tc, tv);
  out.test = FromTripletsOrDie(users, items, er, ec, ev);
  return out;
}

}  // namespace testing_data
}  // namespace affinity
