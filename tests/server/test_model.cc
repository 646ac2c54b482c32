#include "tests/server/test_model.h"

#include <algorithm>
#include <random>
#include <set>

#include <Eigen/Cholesky>
#include <Eigen/Core>

namespace affinity::server::testing {

TestModel MakeImplicitModel(uint32_t seed, int users, int items, int dims, int max_seen) {
  TestModel m;
  m.users = users;
  m.items = items;
  m.dims = dims;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  m.item_factors.resize(size_t(items) * dims);
  for (float& v : m.item_factors) v = normal(rng);
  std::uniform_int_distribution<int> count(1, max_seen);
  std::uniform_int_distribution<uint32_t> pick(0, items - 1);
  std::vector<int> popularity(items, 0);
  for (int u = 0; u < users; ++u) {
    std::set<uint32_t> s;
    const int n = count(rng);
    while (static_cast<int>(s.size()) < n) s.insert(pick(rng));
    m.seen.emplace_back(s.begin(), s.end());
    for (uint32_t i : s) ++popularity[i];
  }
  m.user_factors.resize(size_t(users) * dims);
  for (int u = 0; u < users; ++u) {
    std::vector<float> x = SolveImplicitUser(m, m.seen[u]);
    std::copy(x.begin(), x.end(), m.user_factors.begin() + size_t(u) * dims);
  }
  m.popular.resize(items);
  for (int i = 0; i < items; ++i) m.popular[i] = i;
  std::stable_sort(m.popular.begin(), m.popular.end(),
                   [&](uint32_t a, uint32_t b) { return popularity[a] > popularity[b]; });
  return m;
}

std::vector<float> SolveImplicitUser(const TestModel& model,
                                     const std::vector<uint32_t>& seen) {
  const int f = model.dims;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(f, f);
  for (int i = 0; i < model.items; ++i) {
    Eigen::Map<const Eigen::VectorXf> y(model.item(i), f);
    a += y.cast<double>() * y.cast<double>().transpose();
  }
  a.diagonal().array() += model.regularization;
  Eigen::VectorXd b = Eigen::VectorXd::Zero(f);
  const double c = 1.0 + model.alpha * 1.0;
  for (uint32_t i : seen) {
    Eigen::Map<const Eigen::VectorXf> y(model.item(i), f);
    a += (c - 1.0) * y.cast<double>() * y.cast<double>().transpose();
    b += c * y.cast<double>();
  }
  Eigen::VectorXd x = a.llt().solve(b);
  std::vector<float> out(f);
  for (int d = 0; d < f; ++d) out[d] = static_cast<float>(x[d]);
  return out;
}

absl::StatusOr<uint64_t> Publish(storage::ModelStore* store, const TestModel& model) {
  auto writer = store->CreateVersion();
  if (!writer.ok()) return writer.status();
  storage::VersionWriter& w = **writer;
  for (int i = 0; i < model.items; ++i) {
    absl::Status s = w.AddItem(i, TestModel::ItemId(i),
                               absl::MakeConstSpan(model.item(i), model.dims));
    if (!s.ok()) return s;
  }
  for (int u = 0; u < model.users; ++u) {
    absl::Status s = w.AddUser(u, TestModel::UserId(u),
                               absl::MakeConstSpan(model.user(u), model.dims), model.seen[u]);
    if (!s.ok()) return s;
  }
  if (absl::Status s = w.SetPopularItems(model.popular); !s.ok()) return s;
  affinity::v1::ModelMetadata metadata;
  metadata.set_algorithm(model.algorithm);
  metadata.set_dims(model.dims);
  metadata.set_factors(model.dims);
  metadata.set_users(model.users);
  metadata.set_items(model.items);
  metadata.set_alpha(model.alpha);
  metadata.set_regularization(model.regularization);
  metadata.set_weight_transform("raw");
  const uint64_t version = w.version();
  if (absl::Status s = w.Publish(metadata); !s.ok()) return s;
  return version;
}

std::vector<std::pair<uint32_t, double>> BruteForceTopK(const TestModel& model,
                                                        const std::vector<float>& query,
                                                        size_t k,
                                                        const std::vector<uint32_t>& excluded) {
  const std::set<uint32_t> skip(excluded.begin(), excluded.end());
  std::vector<std::pair<uint32_t, double>> all;
  for (int i = 0; i < model.items; ++i) {
    if (skip.count(i)) continue;
    double s = 0;
    for (int d = 0; d < model.dims; ++d) s += double{model.item(i)[d]} * query[d];
    all.emplace_back(i, s);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

}  // namespace affinity::server::testing
