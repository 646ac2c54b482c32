// The IVF scorer (k-means lists scanned in int8, re-ranked exactly) and its
// k-means: every item in exactly one list, the Scorer contract under
// exclusions and filters, recall on clustered items with queries mixing
// several of them, and that a query reads a small part of the catalog.
#include <atomic>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/ivf_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/kmeans.h"
#include "server/scoring/scan_pool.h"
#include "server/scoring/scorer.h"
#include "tests/server/random_items.h"

namespace affinity::server {
namespace {

using testing::RandomVector;

// Items around `topics` random centres, with varied norms (a lognormal
// scale) as trained factors have when vary_norms; the topic of each row in
// *topic_of.
std::vector<float> ClusteredItems(std::mt19937* rng, size_t rows, size_t dims, size_t topics,
                                  float noise, bool vary_norms, std::vector<size_t>* topic_of) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> scale(0.0f, 0.5f);
  const std::vector<float> centres = RandomVector(rng, topics * dims);
  std::vector<float> dense(rows * dims);
  for (size_t i = 0; i < rows; ++i) {
    const size_t topic = (*rng)() % topics;
    if (topic_of != nullptr) topic_of->push_back(topic);
    const float s = vary_norms ? scale(*rng) : 1.0f;
    for (size_t d = 0; d < dims; ++d) {
      dense[i * dims + d] = s * (centres[topic * dims + d] + noise * normal(*rng));
    }
  }
  return dense;
}

std::unique_ptr<IvfScorer> BuildIvf(std::shared_ptr<const ItemMatrix> m, ScorerOptions options) {
  options.kind = ScorerKind::kIvf;
  auto ivf = IvfScorer::Build(std::move(m), options);
  EXPECT_TRUE(ivf.ok()) << ivf.status();
  return ivf.ok() ? *std::move(ivf) : nullptr;
}

TEST(KMeansTest, FindsWellSeparatedClusters) {
  std::mt19937 rng(1);
  std::vector<size_t> topic_of;
  const size_t rows = 4000, dims = 16, topics = 8;
  const std::vector<float> dense = ClusteredItems(&rng, rows, dims, topics, 0.05f, false, &topic_of);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  KMeansOptions options;
  options.clusters = topics;
  options.iterations = 20;
  auto result = TrainKMeans(*m, options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->centroids->rows(), topics);
  ASSERT_EQ(result->assignment.size(), rows);
  // Each cluster is one topic, whole.
  std::vector<std::set<uint32_t>> clusters_of_topic(topics);
  std::vector<std::set<size_t>> topics_of_cluster(topics);
  for (size_t i = 0; i < rows; ++i) {
    clusters_of_topic[topic_of[i]].insert(result->assignment[i]);
    topics_of_cluster[result->assignment[i]].insert(topic_of[i]);
  }
  for (size_t t = 0; t < topics; ++t) {
    EXPECT_EQ(clusters_of_topic[t].size(), 1u) << "topic " << t;
    EXPECT_EQ(topics_of_cluster[t].size(), 1u) << "cluster " << t;
  }
}

TEST(KMeansTest, AssignmentDoesNotDependOnThreads) {
  std::mt19937 rng(2);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, 5000 * 24), 5000, 24);
  KMeansOptions options;
  options.clusters = 40;
  auto alone = TrainKMeans(*m, options);
  options.pool = std::make_shared<ScanPool>(3);
  auto split = TrainKMeans(*m, options);
  ASSERT_TRUE(alone.ok() && split.ok());
  EXPECT_EQ(alone->assignment, split->assignment);
}

TEST(KMeansTest, CancelledAndEmpty) {
  std::mt19937 rng(3);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, 500 * 8), 500, 8);
  std::atomic<bool> cancel{true};
  KMeansOptions options;
  options.clusters = 10;
  options.cancel = &cancel;
  EXPECT_EQ(TrainKMeans(*m, options).status().code(), absl::StatusCode::kCancelled);
  options.cancel = nullptr;
  options.clusters = 0;
  EXPECT_EQ(TrainKMeans(*m, options).status().code(), absl::StatusCode::kInvalidArgument);
  ItemMatrix none(0, 8);
  options.clusters = 10;
  auto empty = TrainKMeans(none, options);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->centroids->rows(), 0u);
}

// With every item a candidate, the re-rank sees the whole catalog: the
// answers are ExactScorer's bit for bit, which needs every item in a list.
TEST(IvfScorerTest, EveryItemACandidateGivesTheExactAnswers) {
  std::mt19937 rng(4);
  const size_t rows = 3001, dims = 20;
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, rows * dims), rows, dims);
  ScorerOptions options;
  options.int8_candidate_factor = 1000;  // 10 x 1000 >= rows
  auto ivf = BuildIvf(m, options);
  ASSERT_NE(ivf, nullptr);
  size_t listed = 0;
  for (size_t l = 0; l < ivf->lists(); ++l) listed += ivf->ListSize(l);
  EXPECT_EQ(listed, rows);
  ExactScorer exact(m);
  ExclusionSet excluded({0, 5, 17});
  for (int trial = 0; trial < 10; ++trial) {
    const std::vector<float> q = RandomVector(&rng, dims);
    const ScoringResult got = ivf->TopK({q, 10, &excluded});
    const ScoringResult want = exact.TopK({q, 10, &excluded});
    ASSERT_EQ(got.items.size(), want.items.size());
    for (size_t r = 0; r < want.items.size(); ++r) {
      EXPECT_EQ(got.items[r].index, want.items[r].index) << "rank " << r;
      EXPECT_EQ(got.items[r].score, want.items[r].score) << "rank " << r;
    }
    EXPECT_EQ(got.items_scored, rows);
  }
}

// The answer holds min(k, allowed and not excluded) items, never an
// excluded or not-allowed one, however few the first lists hold.
TEST(IvfScorerTest, HonoursExclusionsFiltersAndK) {
  std::mt19937 rng(5);
  const size_t rows = 2000, dims = 16;
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, rows * dims), rows, dims);
  auto ivf = BuildIvf(m, ScorerOptions{});
  ASSERT_NE(ivf, nullptr);
  ItemBitmap half(rows);
  for (uint32_t i = 0; i < rows; i += 2) half.Set(i);
  std::vector<uint32_t> most;
  for (uint32_t i = 0; i < rows - 12; ++i) most.push_back(i);  // 12 left, 6 of them allowed
  const std::vector<float> q = RandomVector(&rng, dims);
  for (const auto& list : {std::vector<uint32_t>{}, std::vector<uint32_t>{1, 2, 3}, most}) {
    ExclusionSet excluded(list);
    for (const ItemBitmap* allowed : std::vector<const ItemBitmap*>{nullptr, &half}) {
      ScoringQuery query{q, 10, &excluded};
      query.allowed = allowed;
      const ScoringResult r = ivf->TopK(query);
      size_t available = 0;
      for (uint32_t i = 0; i < rows; ++i) {
        available += !excluded.Contains(i) && (allowed == nullptr || allowed->Contains(i));
      }
      EXPECT_EQ(r.items.size(), std::min<size_t>(10, available));
      for (const ScoredIndex& s : r.items) {
        EXPECT_FALSE(excluded.Contains(s.index));
        if (allowed != nullptr) {
          EXPECT_TRUE(allowed->Contains(s.index));
        }
      }
    }
  }
  EXPECT_TRUE(ivf->TopK({q, 0, nullptr}).items.empty());
}

// Queries as the server folds them in (5 items summed, so several topics
// at once) over clustered items of varied norms: recall@10 against the
// exact answers, while scanning a small part of the catalog.
TEST(IvfScorerTest, RecallAt10OfQueriesMixingSeveralItemsReadingFewLists) {
  std::mt19937 rng(6);
  const size_t rows = 40000, dims = 32;
  const std::vector<float> dense = ClusteredItems(&rng, rows, dims, 64, 0.5f, true, nullptr);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  auto ivf = BuildIvf(m, ScorerOptions{});
  ASSERT_NE(ivf, nullptr);
  ExactScorer exact(m);
  ExclusionSet none;
  size_t hits = 0, scanned = 0;
  const size_t queries = 100;
  for (size_t n = 0; n < queries; ++n) {
    std::vector<float> q(dims, 0.0f);
    for (int r = 0; r < 5; ++r) {
      const size_t item = rng() % rows;
      for (size_t d = 0; d < dims; ++d) q[d] += dense[item * dims + d];
    }
    std::set<uint32_t> truth;
    for (const ScoredIndex& s : exact.TopK({q, 10, &none}).items) truth.insert(s.index);
    const ScoringResult got = ivf->TopK({q, 10, &none});
    ASSERT_EQ(got.items.size(), 10u);
    for (const ScoredIndex& s : got.items) hits += truth.count(s.index);
    scanned += got.items_scored;
  }
  const double recall = double(hits) / (10.0 * queries);
  const double share_scanned = double(scanned) / double(queries * rows);
  RecordProperty("recall_at_10", std::to_string(recall));
  RecordProperty("share_scanned", std::to_string(share_scanned));
  EXPECT_GE(recall, 0.95);
  EXPECT_LT(share_scanned, 0.1);
}

// A row of NaNs makes its list's centroid NaN (ranked last, so that the
// ranking's comparison stays a strict order): every answer still holds k
// finite items.
TEST(IvfScorerTest, NonFiniteRowsKeepTheContract) {
  std::mt19937 rng(9);
  const size_t rows = 3000, dims = 8;
  std::vector<float> dense = RandomVector(&rng, rows * dims);
  for (size_t d = 0; d < dims; ++d) dense[17 * dims + d] = std::nanf("");
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  auto ivf = BuildIvf(m, ScorerOptions{});
  ASSERT_NE(ivf, nullptr);
  for (int trial = 0; trial < 20; ++trial) {
    const ScoringResult r = ivf->TopK({RandomVector(&rng, dims), 10, nullptr});
    ASSERT_EQ(r.items.size(), 10u);
    for (const ScoredIndex& s : r.items) EXPECT_FALSE(std::isnan(s.score)) << s.index;
  }
}

TEST(IvfScorerTest, ListsAndProbesFollowTheOptions) {
  std::mt19937 rng(7);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, 10000 * 8), 10000, 8);
  auto by_default = BuildIvf(m, ScorerOptions{});
  ASSERT_NE(by_default, nullptr);
  EXPECT_EQ(by_default->lists(), 100u);  // sqrt(10,000)
  EXPECT_EQ(by_default->probes(), 3u);   // 100 / 32
  ScorerOptions options;
  options.ivf_lists = 50;
  options.ivf_probes = 500;
  auto set = BuildIvf(m, options);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->lists(), 50u);
  EXPECT_EQ(set->probes(), 50u);  // at most every list
  auto empty = BuildIvf(std::make_shared<ItemMatrix>(0, 8), ScorerOptions{});
  ASSERT_NE(empty, nullptr);
  EXPECT_TRUE(empty->TopK({std::vector<float>(8, 1.0f), 10, nullptr}).items.empty());
}

TEST(IvfScorerTest, BuildStopsWhenCancelled) {
  std::mt19937 rng(8);
  std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(RandomVector(&rng, 5000 * 8), 5000, 8);
  std::atomic<bool> cancel{true};
  ScorerOptions options;
  options.kind = ScorerKind::kIvf;
  options.cancel = &cancel;
  EXPECT_EQ(MakeScorer(m, options).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(*ParseScorerKind("ivf"), ScorerKind::kIvf);
}

}  // namespace
}  // namespace affinity::server
