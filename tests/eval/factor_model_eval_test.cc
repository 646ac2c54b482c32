#include "trainer/eval/factor_model_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/eval/test_matrices.h"
#include "trainer/eval/user_sample.h"

namespace affinity {
namespace eval {
namespace {

using testing::MatrixFromRows;
using testing::RandomRows;

constexpr double kEps = 1e-12;

FactorMatrix Column(std::vector<float> values) {
  FactorMatrix m(values.size(), 1);
  for (size_t i = 0; i < values.size(); ++i) m(i, 0) = values[i];
  return m;
}

TEST(EvaluateFactorModelTest, HandComputedSmallCase) {
  // One factor. Item scores for a user with factor +1 are 6,5,4,3,2,1 (item
  // 0 best); for factor -1 the order reverses (item 5 best).
  const FactorMatrix items = Column({6, 5, 4, 3, 2, 1});
  const FactorMatrix users = Column({1, 1, -1, 1});
  const CsrMatrix train = MatrixFromRows(6, {{0, 2}, {1}, {5}, {}});
  const CsrMatrix test = MatrixFromRows(6, {{1, 4}, {}, {0}, {0}});
  EvalOptions options;
  options.k = 3;
  const absl::StatusOr<RankingMetrics> m =
      EvaluateFactorModel(users, items, train, test, options);
  ASSERT_TRUE(m.ok()) << m.status();
  // User 0: train {0, 2} excluded, list [1, 3, 4], held out {1, 4}: hits at
  //   ranks 1 and 3. precision 2/3, recall 2/2,
  //   ndcg = (1 + 1/log2(4)) / (1 + 1/log2(3)), AP = (1/1 + 2/3) / 2 = 5/6.
  // User 1: nothing held out, skipped.
  // User 2: train {5} excluded, list [4, 3, 2], held out {0}: no hit.
  // User 3: nothing excluded, list [0, 1, 2], held out {0}: hit at rank 1.
  //   precision 1/3, recall 1, ndcg 1, AP 1.
  const double ndcg0 = 1.5 / (1 + 1 / std::log2(3.0));
  EXPECT_EQ(m->k, 3);
  EXPECT_EQ(m->users_evaluated, 3);
  EXPECT_NEAR(m->precision, (2.0 / 3 + 0 + 1.0 / 3) / 3, kEps);
  EXPECT_NEAR(m->recall, (1.0 + 0 + 1.0) / 3, kEps);
  EXPECT_NEAR(m->ndcg, (ndcg0 + 0 + 1.0) / 3, kEps);
  EXPECT_NEAR(m->map, (5.0 / 6 + 0 + 1.0) / 3, kEps);
  // Lists cover {1,3,4} + {4,3,2} + {0,1,2} = 5 of 6 items.
  EXPECT_NEAR(m->coverage, 5.0 / 6, kEps);
  // Per-user values are kept only when asked for.
  EXPECT_TRUE(m->users.empty());
  EXPECT_TRUE(m->per_user.empty());
  // Half-width over the three users' precision {2/3, 0, 1/3}: mean 1/3,
  // squared deviations 1/9 + 1/9 + 0, sample variance 1/9, sd 1/3.
  EXPECT_NEAR(m->precision_ci95, 1.959963984540054 / 3 / std::sqrt(3.0), kEps);

  options.keep_per_user = true;
  const absl::StatusOr<RankingMetrics> kept =
      EvaluateFactorModel(users, items, train, test, options);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->users, (std::vector<int64_t>{0, 2, 3}));
  ASSERT_EQ(kept->per_user.size(), 3u);
  EXPECT_EQ(kept->per_user[0].hits, 2);
  EXPECT_NEAR(kept->per_user[0].ndcg, ndcg0, kEps);
  EXPECT_NEAR(kept->per_user[0].average_precision, 5.0 / 6, kEps);
  EXPECT_EQ(kept->per_user[1].hits, 0);
  EXPECT_EQ(kept->per_user[1].ndcg, 0);
  EXPECT_NEAR(kept->per_user[2].precision, 1.0 / 3, kEps);
  EXPECT_NEAR(kept->per_user[2].ndcg, 1.0, kEps);
  EXPECT_EQ(kept->precision, m->precision);
  EXPECT_EQ(kept->ndcg_ci95, m->ndcg_ci95);
}

TEST(EvaluateFactorModelTest, TrainItemsAreNotRecommended) {
  // Item 0 scores best but the user trained on it; the held-out copy of it
  // cannot be hit, and the list is [1, 2].
  const FactorMatrix items = Column({3, 2, 1});
  const FactorMatrix users = Column({1});
  const CsrMatrix train = MatrixFromRows(3, {{0}});
  EvalOptions options;
  options.k = 2;
  const absl::StatusOr<RankingMetrics> miss = EvaluateFactorModel(
      users, items, train, MatrixFromRows(3, {{0}}), options);
  ASSERT_TRUE(miss.ok()) << miss.status();
  EXPECT_EQ(miss->precision, 0);
  EXPECT_EQ(miss->ndcg, 0);
  EXPECT_NEAR(miss->coverage, 2.0 / 3, kEps);
  // Held out item 2, second in the list: precision 1/2,
  // ndcg = (1/log2(3)) / 1, AP = (1/2) / 1.
  const absl::StatusOr<RankingMetrics> hit = EvaluateFactorModel(
      users, items, train, MatrixFromRows(3, {{2}}), options);
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_NEAR(hit->precision, 0.5, kEps);
  EXPECT_NEAR(hit->ndcg, 1 / std::log2(3.0), kEps);
  EXPECT_NEAR(hit->map, 0.5, kEps);
}

TEST(EvaluateFactorModelTest, NoUserWithHeldOutItemsGivesZeroUsers) {
  const FactorMatrix items = Column({1, 2});
  const FactorMatrix users = Column({1, 1});
  const CsrMatrix empty = MatrixFromRows(2, {{}, {}});
  const absl::StatusOr<RankingMetrics> m =
      EvaluateFactorModel(users, items, empty, empty, EvalOptions());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->users_evaluated, 0);
  EXPECT_EQ(m->precision, 0);
  EXPECT_EQ(m->coverage, 0);
}

TEST(EvaluateFactorModelTest, RejectsMismatchedShapes) {
  const FactorMatrix items = Column({1, 2, 3});
  const FactorMatrix users = Column({1, 1});
  const CsrMatrix train = MatrixFromRows(3, {{}, {0}});
  const CsrMatrix test = MatrixFromRows(3, {{1}, {}});
  EvalOptions options;
  EXPECT_TRUE(EvaluateFactorModel(users, items, train, test, options).ok());

  const absl::StatusOr<RankingMetrics> few_users =
      EvaluateFactorModel(Column({1}), items, train, test, options);
  EXPECT_EQ(few_users.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(few_users.status().message().find("user factors"),
            std::string::npos);

  const absl::StatusOr<RankingMetrics> few_items =
      EvaluateFactorModel(users, Column({1, 2}), train, test, options);
  EXPECT_EQ(few_items.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(few_items.status().message().find("item factors"),
            std::string::npos);

  const FactorMatrix wide_users = FactorMatrix::Ones(2, 2);
  EXPECT_EQ(EvaluateFactorModel(wide_users, items, train, test, options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  const CsrMatrix narrow_test = MatrixFromRows(2, {{1}, {}});
  const absl::StatusOr<RankingMetrics> shape =
      EvaluateFactorModel(users, items, train, narrow_test, options);
  EXPECT_EQ(shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(shape.status().message().find("same shape"), std::string::npos);

  EvalOptions bad_k;
  bad_k.k = 0;
  const absl::StatusOr<RankingMetrics> k0 =
      EvaluateFactorModel(users, items, train, test, bad_k);
  EXPECT_EQ(k0.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(k0.status().message().find("EvalOptions.k"), std::string::npos);
}

// A random problem whose scores are exact in float: small integer factors,
// so every summation order gives the same scores, and ties are frequent.
struct IntegerProblem {
  FactorMatrix users;
  FactorMatrix items;
  CsrMatrix train;
  CsrMatrix test;
};

IntegerProblem MakeIntegerProblem(int64_t num_users, int64_t num_items,
                                  int dims, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> value(-2, 2);
  IntegerProblem p;
  p.users.resize(num_users, dims);
  p.items.resize(num_items, dims);
  for (int64_t i = 0; i < p.users.size(); ++i) p.users.data()[i] = value(rng);
  for (int64_t i = 0; i < p.items.size(); ++i) p.items.data()[i] = value(rng);
  std::vector<std::vector<uint32_t>> train_rows =
      RandomRows(num_users, num_items, 0.15, rng);
  // One user has trained on all but three items: its list is short.
  train_rows[5].clear();
  for (uint32_t i = 3; i < num_items; ++i) train_rows[5].push_back(i);
  std::vector<std::vector<uint32_t>> test_rows =
      RandomRows(num_users, num_items, 0.04, rng);
  test_rows[5] = {0, 7};
  // Every tenth user has nothing held out and must be skipped.
  for (int64_t u = 3; u < num_users; u += 10) test_rows[u].clear();
  p.train = MatrixFromRows(num_items, train_rows);
  p.test = MatrixFromRows(num_items, test_rows);
  return p;
}

// Straightforward evaluation: per-user double dot products, full sort,
// metric formulas written out independently of the library.
RankingMetrics NaiveEvaluate(const IntegerProblem& p, int k,
                             const std::vector<int64_t>& users) {
  const int64_t num_items = p.items.rows();
  std::vector<bool> covered(num_items, false);
  RankingMetrics r;
  r.k = k;
  // Per-user values of precision, recall, ndcg and AP, for the intervals.
  std::vector<std::vector<double>> values(4);
  for (int64_t u : users) {
    const CsrMatrix::Row seen = p.train.row(u);
    const CsrMatrix::Row held = p.test.row(u);
    std::vector<double> score(num_items);
    std::vector<uint32_t> candidates;
    for (int64_t i = 0; i < num_items; ++i) {
      double s = 0;
      for (int d = 0; d < p.items.cols(); ++d) {
        s += static_cast<double>(p.users(u, d)) * p.items(i, d);
      }
      score[i] = s;
      if (std::find(seen.indices.begin(), seen.indices.end(), i) ==
          seen.indices.end()) {
        candidates.push_back(static_cast<uint32_t>(i));
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [&](uint32_t a, uint32_t b) {
                return score[a] > score[b] || (score[a] == score[b] && a < b);
              });
    if (static_cast<int>(candidates.size()) > k) candidates.resize(k);
    double hits = 0, dcg = 0, ap = 0;
    for (size_t rank = 0; rank < candidates.size(); ++rank) {
      covered[candidates[rank]] = true;
      if (std::find(held.indices.begin(), held.indices.end(),
                    candidates[rank]) == held.indices.end()) {
        continue;
      }
      hits += 1;
      dcg += 1 / std::log2(rank + 2.0);
      ap += hits / (rank + 1);
    }
    const double n_held = static_cast<double>(held.size());
    const int ideal = std::min<int>(k, static_cast<int>(held.size()));
    double idcg = 0;
    for (int rank = 0; rank < ideal; ++rank) idcg += 1 / std::log2(rank + 2.0);
    r.precision += hits / k;
    r.recall += hits / n_held;
    r.ndcg += dcg / idcg;
    r.map += ap / ideal;
    values[0].push_back(hits / k);
    values[1].push_back(hits / n_held);
    values[2].push_back(dcg / idcg);
    values[3].push_back(ap / ideal);
    ++r.users_evaluated;
  }
  const double n = static_cast<double>(r.users_evaluated);
  r.precision /= n;
  r.recall /= n;
  r.ndcg /= n;
  r.map /= n;
  // Two-pass sample standard deviation; 1.96-quantile normal interval.
  double* ci[] = {&r.precision_ci95, &r.recall_ci95, &r.ndcg_ci95,
                  &r.map_ci95};
  const double means[] = {r.precision, r.recall, r.ndcg, r.map};
  for (int j = 0; j < 4; ++j) {
    double squares = 0;
    for (double v : values[j]) squares += (v - means[j]) * (v - means[j]);
    *ci[j] = 1.959963984540054 * std::sqrt(squares / (n - 1)) / std::sqrt(n);
  }
  r.coverage =
      static_cast<double>(std::count(covered.begin(), covered.end(), true)) /
      num_items;
  return r;
}

void ExpectNear(const RankingMetrics& a, const RankingMetrics& b) {
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.users_evaluated, b.users_evaluated);
  EXPECT_NEAR(a.precision, b.precision, kEps);
  EXPECT_NEAR(a.recall, b.recall, kEps);
  EXPECT_NEAR(a.ndcg, b.ndcg, kEps);
  EXPECT_NEAR(a.map, b.map, kEps);
  EXPECT_NEAR(a.coverage, b.coverage, kEps);
  EXPECT_NEAR(a.precision_ci95, b.precision_ci95, kEps);
  EXPECT_NEAR(a.recall_ci95, b.recall_ci95, kEps);
  EXPECT_NEAR(a.ndcg_ci95, b.ndcg_ci95, kEps);
  EXPECT_NEAR(a.map_ci95, b.map_ci95, kEps);
}

void ExpectIdentical(const RankingMetrics& a, const RankingMetrics& b) {
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.users_evaluated, b.users_evaluated);
  EXPECT_EQ(a.precision, b.precision);
  EXPECT_EQ(a.recall, b.recall);
  EXPECT_EQ(a.ndcg, b.ndcg);
  EXPECT_EQ(a.map, b.map);
  EXPECT_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.precision_ci95, b.precision_ci95);
  EXPECT_EQ(a.recall_ci95, b.recall_ci95);
  EXPECT_EQ(a.ndcg_ci95, b.ndcg_ci95);
  EXPECT_EQ(a.map_ci95, b.map_ci95);
  EXPECT_EQ(a.users, b.users);
  ASSERT_EQ(a.per_user.size(), b.per_user.size());
  for (size_t i = 0; i < a.per_user.size(); ++i) {
    EXPECT_EQ(a.per_user[i].hits, b.per_user[i].hits) << i;
    EXPECT_EQ(a.per_user[i].ndcg, b.per_user[i].ndcg) << i;
    EXPECT_EQ(a.per_user[i].average_precision,
              b.per_user[i].average_precision) << i;
  }
}

TEST(EvaluateFactorModelTest, BlockedThreadedEqualsNaiveReference) {
  const IntegerProblem p = MakeIntegerProblem(300, 257, 6, 21);
  const std::vector<int64_t> all_users = SelectEvaluationUsers(p.test, 0, 0);
  ASSERT_EQ(all_users.size(), 270u);

  struct Layout {
    int threads, user_block, item_tile, k;
  };
  const Layout layouts[] = {
      {1, 128, 8192, 10}, {2, 128, 8192, 10}, {2, 7, 50, 10},
      {3, 1, 1, 10},      {2, 33, 64, 1},     {1, 300, 257, 40},
  };
  for (const Layout& l : layouts) {
    SCOPED_TRACE(::testing::Message()
                 << "threads=" << l.threads << " user_block=" << l.user_block
                 << " item_tile=" << l.item_tile << " k=" << l.k);
    EvalOptions options;
    options.k = l.k;
    options.threads = l.threads;
    options.user_block = l.user_block;
    options.item_tile = l.item_tile;
    const absl::StatusOr<RankingMetrics> m =
        EvaluateFactorModel(p.users, p.items, p.train, p.test, options);
    ASSERT_TRUE(m.ok()) << m.status();
    ExpectNear(*m, NaiveEvaluate(p, l.k, all_users));
  }
}

TEST(EvaluateFactorModelTest, ThreadCountDoesNotChangeResults) {
  // Float factors: scores carry rounding, results must still be identical
  // bit for bit across thread counts.
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0, 1);
  FactorMatrix users(700, 16), items(900, 16);
  for (int64_t i = 0; i < users.size(); ++i) users.data()[i] = normal(rng);
  for (int64_t i = 0; i < items.size(); ++i) items.data()[i] = normal(rng);
  const CsrMatrix train = MatrixFromRows(900, RandomRows(700, 900, 0.05, rng));
  const CsrMatrix test = MatrixFromRows(900, RandomRows(700, 900, 0.01, rng));
  EvalOptions options;
  options.user_block = 32;
  options.item_tile = 256;
  options.threads = 1;
  options.keep_per_user = true;
  const absl::StatusOr<RankingMetrics> one =
      EvaluateFactorModel(users, items, train, test, options);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_GT(one->users_evaluated, 600);
  EXPECT_EQ(static_cast<int64_t>(one->per_user.size()), one->users_evaluated);
  for (int threads : {2, 3, 8}) {
    options.threads = threads;
    const absl::StatusOr<RankingMetrics> many =
        EvaluateFactorModel(users, items, train, test, options);
    ASSERT_TRUE(many.ok()) << many.status();
    ExpectIdentical(*one, *many);
  }
}

TEST(EvaluateFactorModelTest, SampledEvaluationIsSeededAndMatchesItsUsers) {
  const IntegerProblem p = MakeIntegerProblem(400, 120, 5, 8);
  EvalOptions options;
  options.k = 5;
  options.max_users = 37;
  options.seed = 99;
  options.threads = 2;
  options.user_block = 8;
  const absl::StatusOr<RankingMetrics> a =
      EvaluateFactorModel(p.users, p.items, p.train, p.test, options);
  const absl::StatusOr<RankingMetrics> b =
      EvaluateFactorModel(p.users, p.items, p.train, p.test, options);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->users_evaluated, 37);
  ExpectIdentical(*a, *b);
  // The sample is exactly the users SelectEvaluationUsers picks.
  ExpectNear(*a, NaiveEvaluate(p, 5, SelectEvaluationUsers(p.test, 37, 99)));

  options.seed = 100;
  const absl::StatusOr<RankingMetrics> c =
      EvaluateFactorModel(p.users, p.items, p.train, p.test, options);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectNear(*c, NaiveEvaluate(p, 5, SelectEvaluationUsers(p.test, 37, 100)));
  EXPECT_NE(SelectEvaluationUsers(p.test, 37, 99),
            SelectEvaluationUsers(p.test, 37, 100));
}

TEST(EvaluateFactorModelTest, FoldedBiasVectorsRankByPredictedRating) {
  // Explicit model folded as [x_u, b_u, 1] . [y_i, 1, b_i]: the user factor
  // is zero, so the ranking follows the item biases 0.1, 0.9, 0.5.
  FactorMatrix users(1, 3), items(3, 3);
  users << 0, 0.2f, 1;
  items << 1, 1, 0.1f,  //
      1, 1, 0.9f,       //
      1, 1, 0.5f;
  const CsrMatrix train = MatrixFromRows(3, {{}});
  EvalOptions options;
  options.k = 1;
  const absl::StatusOr<RankingMetrics> best = EvaluateFactorModel(
      users, items, train, MatrixFromRows(3, {{1}}), options);
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->precision, 1);
  const absl::StatusOr<RankingMetrics> second = EvaluateFactorModel(
      users, items, train, MatrixFromRows(3, {{2}}), options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->precision, 0);
}

}  // namespace
}  // namespace eval
}  // namespace affinity
