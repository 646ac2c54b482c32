// Exact and HNSW scorers against a brute-force reference: ranking, the
// exclusion contract (k always met), batches, and HNSW recall.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <new>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/micro_batcher.h"
#include "server/scoring/scorer.h"
#include "tests/server/random_items.h"

namespace affinity::server {
namespace {

using testing::RandomVector;
using testing::RandomItems;

// Reference: every score in double, sort, drop excluded, keep k.
std::vector<ScoredIndex> BruteForce(const ItemMatrix& m, const std::vector<float>& q,
                                    size_t k, const ExclusionSet& excluded) {
  std::vector<std::pair<double, uint32_t>> all;
  for (uint32_t i = 0; i < m.rows(); ++i) {
    if (excluded.Contains(i)) continue;
    double s = 0;
    for (size_t d = 0; d < m.dims(); ++d) s += double{m.row(i)[d]} * q[d];
    all.emplace_back(s, i);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<ScoredIndex> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) {
    out.push_back(ScoredIndex{all[i].second, static_cast<float>(all[i].first)});
  }
  return out;
}

void ExpectSameRanking(const std::vector<ScoredIndex>& got,
                       const std::vector<ScoredIndex>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, 1e-3) << "rank " << i;
    if (std::abs(want[i].score - (i + 1 < want.size() ? want[i + 1].score : -1e9)) > 1e-3 &&
        (i == 0 || std::abs(want[i].score - want[i - 1].score) > 1e-3)) {
      EXPECT_EQ(got[i].index, want[i].index) << "rank " << i;
    }
  }
}

TEST(ItemMatrixTest, PadsRowsToSimdStride) {
  std::mt19937 rng(1);
  auto m = RandomItems(&rng, 5, 10);
  EXPECT_EQ(m->stride(), 16u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m->data()) % 64, 0u);
  for (size_t i = 0; i < 5; ++i) {
    for (size_t d = 10; d < 16; ++d) EXPECT_EQ(m->row(i)[d], 0.0f);
  }
}

TEST(ItemMatrixTest, SizeBeyondSizeTIsBadAllocNotASmallBlock) {
  // 2^40 rows of 2^30 floats: 2^72 bytes, which wraps to 0 in size_t.
  EXPECT_THROW(ItemMatrix(size_t{1} << 40, size_t{1} << 30), std::bad_alloc);
  // A dims value whose padded stride wraps.
  EXPECT_THROW(ItemMatrix(2, std::numeric_limits<size_t>::max() - 3), std::bad_alloc);
}

TEST(ItemMatrixTest, ExpandPackedRowsPutsBackToBackRowsAtTheirStride) {
  std::mt19937 rng(21);
  for (size_t dims : {1, 10, 16, 33}) {
    const size_t rows = 9;
    const std::vector<float> dense = RandomVector(&rng, rows * dims);
    ItemMatrix m(rows, dims);
    std::copy(dense.begin(), dense.end(), m.mutable_data());
    m.ExpandPackedRows();
    for (size_t i = 0; i < rows; ++i) {
      for (size_t d = 0; d < m.stride(); ++d) {
        EXPECT_EQ(m.row(i)[d], d < dims ? dense[i * dims + d] : 0.0f)
            << "dims " << dims << " row " << i << " dim " << d;
      }
    }
  }
}

TEST(ItemMatrixTest, InverseNormsMakeUnitRowsAndKeepZeroRowsZero) {
  std::mt19937 rng(22);
  std::vector<float> dense = RandomVector(&rng, 6 * 5);
  std::fill(dense.begin() + 10, dense.begin() + 15, 0.0f);  // row 2
  auto m = ItemMatrix::FromDense(dense, 6, 5);
  const std::vector<float> inv = m->InverseNorms();
  ASSERT_EQ(inv.size(), 6u);
  EXPECT_EQ(inv[2], 0.0f);
  for (size_t i = 0; i < 6; ++i) {
    if (i == 2) continue;
    double norm2 = 0;
    for (size_t d = 0; d < 5; ++d) norm2 += std::pow(double{m->row(i)[d]} * inv[i], 2);
    EXPECT_NEAR(norm2, 1.0, 1e-6) << "row " << i;
  }
}

// `m` with row i multiplied by scales[i], element by element in float.
std::shared_ptr<const ItemMatrix> ScaledCopy(const ItemMatrix& m, const std::vector<float>& scales) {
  auto out = std::make_shared<ItemMatrix>(m.rows(), m.dims());
  for (size_t i = 0; i < m.rows(); ++i) {
    for (size_t d = 0; d < m.dims(); ++d) out->mutable_row(i)[d] = m.row(i)[d] * scales[i];
  }
  return out;
}

TEST(ExactScorerTest, RowScalesScoreLikeAScaledCopyBitForBit) {
  std::mt19937 rng(23);
  for (size_t dims : {3, 16, 64}) {
    const size_t rows = 1003;
    auto m = RandomItems(&rng, rows, dims);
    auto scales = std::make_shared<const std::vector<float>>(m->InverseNorms());
    auto copy = ScaledCopy(*m, *scales);
    ExactScorerOptions options;
    options.row_scales = scales;
    ExactScorer scaled(m, options);
    ExactScorer reference(copy);
    ItemBitmap few(rows);  // gather scan
    for (uint32_t i = 0; i < rows; i += 50) few.Set(i);
    ExclusionSet excluded({1, 2, 3});
    std::vector<std::vector<float>> vectors;
    for (int q = 0; q < 5; ++q) vectors.push_back(RandomVector(&rng, dims));
    std::vector<ScoringQuery> queries;
    for (int q = 0; q < 5; ++q) queries.push_back({vectors[q], 12, &excluded});
    queries[3].allowed = &few;
    auto same = [&](const ScoringResult& got, const ScoringResult& want, const std::string& what) {
      ASSERT_EQ(got.items.size(), want.items.size()) << what;
      for (size_t r = 0; r < want.items.size(); ++r) {
        EXPECT_EQ(got.items[r].index, want.items[r].index) << what << " rank " << r;
        EXPECT_EQ(got.items[r].score, want.items[r].score) << what << " rank " << r;
      }
    };
    for (int q = 0; q < 5; ++q) {
      same(scaled.TopK(queries[q]), reference.TopK(queries[q]),
           "dims " + std::to_string(dims) + " TopK " + std::to_string(q));
    }
    std::vector<ScoringResult> got = scaled.TopKBatch(queries);
    std::vector<ScoringResult> want = reference.TopKBatch(queries);
    for (int q = 0; q < 5; ++q) {
      same(got[q], want[q], "dims " + std::to_string(dims) + " batch " + std::to_string(q));
      // Scaled too, a query alone scores as in a batch.
      same(scaled.TopK(queries[q]), got[q],
           "dims " + std::to_string(dims) + " alone vs batched " + std::to_string(q));
    }
  }
}

TEST(ExactScorerTest, MatchesBruteForceForOddSizes) {
  std::mt19937 rng(2);
  for (size_t dims : {1, 7, 16, 33, 64}) {
    for (size_t rows : {1, 3, 257, 1000}) {
      auto m = RandomItems(&rng, rows, dims);
      ExactScorer scorer(m);
      const std::vector<float> q = RandomVector(&rng, dims);
      ExclusionSet none;
      ScoringResult r = scorer.TopK({q, 10, &none});
      ExpectSameRanking(r.items, BruteForce(*m, q, 10, none));
      EXPECT_EQ(r.items_scored, rows);
    }
  }
}

TEST(ExactScorerTest, SkipsExcludedAndStillReturnsK) {
  std::mt19937 rng(3);
  auto m = RandomItems(&rng, 500, 24);
  ExactScorer scorer(m);
  const std::vector<float> q = RandomVector(&rng, 24);
  // Exclude the true top 50: a top-k-then-filter would return nothing.
  ExclusionSet none;
  std::vector<uint32_t> top;
  for (const ScoredIndex& s : BruteForce(*m, q, 50, none)) top.push_back(s.index);
  ExclusionSet excluded(top);
  ScoringResult r = scorer.TopK({q, 20, &excluded});
  ASSERT_EQ(r.items.size(), 20u);
  for (const ScoredIndex& s : r.items) EXPECT_FALSE(excluded.Contains(s.index));
  ExpectSameRanking(r.items, BruteForce(*m, q, 20, excluded));
}

TEST(ExactScorerTest, ReturnsWhatIsLeftWhenCatalogIsSmall) {
  std::mt19937 rng(4);
  auto m = RandomItems(&rng, 8, 4);
  ExactScorer scorer(m);
  ExclusionSet excluded({0, 1, 2});
  ScoringResult r = scorer.TopK({RandomVector(&rng, 4), 100, &excluded});
  EXPECT_EQ(r.items.size(), 5u);
}

TEST(ExactScorerTest, BatchEqualsSingleQueries) {
  std::mt19937 rng(5);
  auto m = RandomItems(&rng, 2000, 32);
  ExactScorer scorer(m);
  std::vector<std::vector<float>> vectors;
  std::vector<ExclusionSet> exclusions;
  for (int i = 0; i < 7; ++i) {
    vectors.push_back(RandomVector(&rng, 32));
    exclusions.emplace_back(std::vector<uint32_t>{static_cast<uint32_t>(i * 3)});
  }
  std::vector<ScoringQuery> queries;
  for (int i = 0; i < 7; ++i) queries.push_back({vectors[i], size_t(5 + i), &exclusions[i]});
  std::vector<ScoringResult> batch = scorer.TopKBatch(queries);
  ASSERT_EQ(batch.size(), 7u);
  for (int i = 0; i < 7; ++i) {
    ScoringResult single = scorer.TopK(queries[i]);
    ASSERT_EQ(batch[i].items.size(), single.items.size());
    for (size_t j = 0; j < single.items.size(); ++j) {
      EXPECT_EQ(batch[i].items[j].index, single.items[j].index);
    }
  }
}

// More queries than one 64-bit mask of lanes: the rows each query wants are
// found word by word.
TEST(ExactScorerTest, BatchOfSeventyEqualsSingleQueries) {
  std::mt19937 rng(6);
  auto m = RandomItems(&rng, 3000, 16);
  ExactScorer scorer(m);
  const size_t n = 70;
  std::vector<std::vector<float>> vectors;
  std::vector<ExclusionSet> exclusions;
  for (size_t i = 0; i < n; ++i) {
    vectors.push_back(RandomVector(&rng, 16));
    exclusions.emplace_back(std::vector<uint32_t>{static_cast<uint32_t>(i * 7)});
  }
  std::vector<ScoringQuery> queries;
  for (size_t i = 0; i < n; ++i) queries.push_back({vectors[i], 1 + i % 40, &exclusions[i]});
  const std::vector<ScoringResult> batch = scorer.TopKBatch(queries);
  ASSERT_EQ(batch.size(), n);
  for (size_t i = 0; i < n; ++i) {
    const ScoringResult single = scorer.TopK(queries[i]);
    ASSERT_EQ(batch[i].items.size(), single.items.size()) << "query " << i;
    for (size_t j = 0; j < single.items.size(); ++j) {
      EXPECT_EQ(batch[i].items[j].index, single.items[j].index) << "query " << i;
      EXPECT_EQ(batch[i].items[j].score, single.items[j].score) << "query " << i;
    }
  }
}

// A request's own filter (an ItemPredicate, tested on candidates only)
// gives what a bitmap of the items passing both would give: on the scan
// path and the gather path (a small allowed set), for each scorer kind.
class EveryThirdExcepted : public ItemPredicate {
 public:
  bool Allows(uint32_t index) const override { return index % 3 != 0; }
};

TEST(ScorerPredicateTest, NarrowsLikeTheBitmapOfItemsPassingBoth) {
  std::mt19937 rng(12);
  const size_t rows = 3000, dims = 16;
  auto m = RandomItems(&rng, rows, dims);
  const EveryThirdExcepted predicate;
  for (size_t stride : {2, 25}) {  // 50% allowed: scan; 4%: gather
    ItemBitmap allowed(rows), both(rows);
    for (uint32_t i = 0; i < rows; i += stride) {
      allowed.Set(i);
      if (predicate.Allows(i)) both.Set(i);
    }
    for (ScorerKind kind :
         {ScorerKind::kExact, ScorerKind::kInt8, ScorerKind::kIvf, ScorerKind::kHnsw}) {
      ScorerOptions options;
      options.kind = kind;
      auto scorer = MakeScorer(m, options);
      ASSERT_TRUE(scorer.ok()) << scorer.status();
      ExclusionSet none;
      for (int trial = 0; trial < 5; ++trial) {
        const std::vector<float> q = RandomVector(&rng, dims);
        ScoringQuery narrowed{q, 10, &none};
        narrowed.allowed = &allowed;
        narrowed.also_allowed = &predicate;
        ScoringQuery reference{q, 10, &none};
        reference.allowed = &both;
        const ScoringResult got = (*scorer)->TopK(narrowed);
        ASSERT_EQ(got.items.size(), 10u) << "stride " << stride << " kind " << int(kind);
        for (const ScoredIndex& item : got.items) {
          EXPECT_TRUE(both.Contains(item.index)) << item.index;
        }
        // A graph search or a scan of some lists may differ in its last ranks.
        if (kind == ScorerKind::kHnsw || kind == ScorerKind::kIvf) continue;
        const ScoringResult want = (*scorer)->TopK(reference);
        ASSERT_EQ(want.items.size(), got.items.size());
        for (size_t r = 0; r < want.items.size(); ++r) {
          EXPECT_EQ(got.items[r].index, want.items[r].index) << "rank " << r;
          EXPECT_EQ(got.items[r].score, want.items[r].score) << "rank " << r;
        }
        if (kind == ScorerKind::kExact) {
          EXPECT_GT(got.not_allowed, 0u);
        }
      }
    }
  }
}

// Share of the exact top 10 of each query that `approximate` returns; every
// answer must hold 10 items.
double RecallAt10(const Scorer& approximate, const ExactScorer& exact,
                  const std::vector<std::vector<float>>& queries) {
  ExclusionSet none;
  size_t hits = 0;
  for (const std::vector<float>& q : queries) {
    std::set<uint32_t> truth;
    for (const ScoredIndex& s : exact.TopK({q, 10, &none}).items) truth.insert(s.index);
    const ScoringResult r = approximate.TopK({q, 10, &none});
    EXPECT_EQ(r.items.size(), 10u);
    for (const ScoredIndex& s : r.items) hits += truth.count(s.index);
  }
  return double(hits) / (10.0 * queries.size());
}

TEST(HnswScorerTest, RecallAt10AgainstExactIsHigh) {
  std::mt19937 rng(6);
  const size_t rows = 5000, dims = 32;
  auto m = RandomItems(&rng, rows, dims);
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  options.hnsw_ef = 200;
  auto hnsw = MakeScorer(m, options);
  ASSERT_TRUE(hnsw.ok()) << hnsw.status();
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 50; ++i) queries.push_back(RandomVector(&rng, dims));
  const double recall = RecallAt10(**hnsw, ExactScorer(m), queries);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.9);
}

// Queries as the server folds them in (a user's recent items summed, so
// several directions at once) over clustered items of varied norms, as
// trained factors are: the graph must still find the top items. (This is
// what keeps the graph in hnswlib's inner-product space: built in L2 space
// over norm-equalised vectors, [row, sqrt(max |row|^2 - |row|^2)], it found
// 0.731 of them here, against 1.000.)
TEST(HnswScorerTest, RecallAt10OfQueriesMixingSeveralItems) {
  std::mt19937 rng(8);
  const size_t rows = 20000, dims = 32, topics = 64;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> scale(0.0f, 0.5f);
  const std::vector<float> centres = RandomVector(&rng, topics * dims);
  std::vector<float> dense(rows * dims);
  for (size_t i = 0; i < rows; ++i) {
    const size_t topic = rng() % topics;
    const float s = scale(rng);
    for (size_t d = 0; d < dims; ++d) {
      dense[i * dims + d] = s * (centres[topic * dims + d] + 0.5f * normal(rng));
    }
  }
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  auto hnsw = MakeScorer(m, options);
  ASSERT_TRUE(hnsw.ok()) << hnsw.status();
  std::vector<std::vector<float>> queries(100, std::vector<float>(dims, 0.0f));
  for (std::vector<float>& q : queries) {
    for (int r = 0; r < 5; ++r) {
      const size_t item = rng() % rows;
      for (size_t d = 0; d < dims; ++d) q[d] += dense[item * dims + d];
    }
  }
  const double recall = RecallAt10(**hnsw, ExactScorer(m), queries);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.97);
}

TEST(HnswScorerTest, HonoursExclusionsAndK) {
  std::mt19937 rng(7);
  auto m = RandomItems(&rng, 300, 16);
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  auto hnsw = MakeScorer(m, options);
  ASSERT_TRUE(hnsw.ok()) << hnsw.status();
  const std::vector<float> q = RandomVector(&rng, 16);
  std::vector<uint32_t> many;
  for (uint32_t i = 0; i < 290; ++i) many.push_back(i);
  for (const auto& list : {std::vector<uint32_t>{}, std::vector<uint32_t>{1, 2, 3}, many}) {
    ExclusionSet excluded(list);
    ScoringResult r = (*hnsw)->TopK({q, 10, &excluded});
    EXPECT_EQ(r.items.size(), std::min<size_t>(10, 300 - list.size()));
    for (const ScoredIndex& s : r.items) EXPECT_FALSE(excluded.Contains(s.index));
  }
}

TEST(HnswScorerTest, BuildStopsWhenCancelled) {
  std::mt19937 rng(9);
  auto m = RandomItems(&rng, 5000, 8);
  std::atomic<bool> cancel{true};
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  options.cancel = &cancel;
  auto hnsw = MakeScorer(m, options);
  EXPECT_EQ(hnsw.status().code(), absl::StatusCode::kCancelled);
}

TEST(ParseScorerKindTest, KnownAndUnknownNames) {
  EXPECT_EQ(*ParseScorerKind("exact"), ScorerKind::kExact);
  EXPECT_EQ(*ParseScorerKind("hnsw"), ScorerKind::kHnsw);
  EXPECT_EQ(*ParseScorerKind("int8"), ScorerKind::kInt8);
  EXPECT_FALSE(ParseScorerKind("faiss").ok());
}

TEST(MicroBatcherTest, ConcurrentQueriesShareBatchesAndGetTheirOwnResults) {
  std::mt19937 rng(8);
  auto m = RandomItems(&rng, 3000, 16);
  ExactScorer scorer(m);
  MicroBatcher batcher({std::chrono::microseconds(20000), 8});
  constexpr int kThreads = 8;
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < kThreads; ++i) vectors.push_back(RandomVector(&rng, 16));
  ExclusionSet none;
  std::vector<absl::StatusOr<ScoringResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = batcher.Score(scorer, {vectors[i], 5, &none}); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ScoringResult want = scorer.TopK({vectors[i], 5, &none});
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    ASSERT_EQ(results[i]->items.size(), 5u);
    for (size_t j = 0; j < 5; ++j) EXPECT_EQ(results[i]->items[j].index, want.items[j].index);
  }
  EXPECT_EQ(batcher.batched_queries(), static_cast<size_t>(kThreads));
  EXPECT_LT(batcher.batches(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace affinity::server
