// Exact scans split by item range (ExactScorer with a ScanPool) return
// exactly what the single-threaded scan returns, items and scores, ties
// included, alone and in batches, with exclusions and allowed sets; a
// query scored alone gets the scores it gets in a batch; the same with
// row scales (SimilarItems' inverse norms), equal to a scaled copy; and
// ScanPool runs every part once, on several threads, and reports a part
// that throws only after every part ended.
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/scan_pool.h"

namespace affinity::server {
namespace {

constexpr size_t kDims = 24;

// rows x kDims random vectors; rows past `distinct` repeat earlier rows, so
// many items tie exactly (across range boundaries too).
std::shared_ptr<const ItemMatrix> ItemsWithTies(std::mt19937* rng, size_t rows,
                                                size_t distinct) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> dense(rows * kDims);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t d = 0; d < kDims; ++d) {
      dense[r * kDims + d] = r < distinct ? dist(*rng) : dense[(r % distinct) * kDims + d];
    }
  }
  return ItemMatrix::FromDense(dense, rows, kDims);
}

std::vector<float> RandomQuery(std::mt19937* rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(kDims);
  for (float& x : q) x = dist(*rng);
  return q;
}

// Equal items, in order, with bit-identical scores.
void ExpectSameItems(const ScoringResult& got, const ScoringResult& want, const char* what) {
  ASSERT_EQ(got.items.size(), want.items.size()) << what;
  for (size_t i = 0; i < want.items.size(); ++i) {
    EXPECT_EQ(got.items[i].index, want.items[i].index) << what << " rank " << i;
    EXPECT_EQ(got.items[i].score, want.items[i].score) << what << " rank " << i;
  }
  EXPECT_EQ(got.items_scored, want.items_scored) << what;
}

class ParallelScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(17);
    // 10,007 rows: the last range ends inside a block. 1,500 distinct rows:
    // every score occurs six or seven times.
    items_ = ItemsWithTies(&rng, 10007, 1500);
    for (int i = 0; i < 40; ++i) queries_.push_back(RandomQuery(&rng));
    std::vector<uint32_t> excluded;
    for (int i = 0; i < 300; ++i) excluded.push_back(static_cast<uint32_t>(rng() % 10007));
    excluded_ = ExclusionSet(std::move(excluded));
    // Half of the items allowed: above the gather threshold, scanned.
    allowed_ = ItemBitmap(items_->rows());
    for (uint32_t i = 0; i < items_->rows(); ++i) {
      if (rng() % 2 == 0) allowed_.Set(i);
    }
  }

  // The i-th query: plain, excluding, allowing, or both, with various k.
  ScoringQuery Query(size_t i) const {
    ScoringQuery q{queries_[i], 1 + (i * 7) % 60, nullptr};
    if (i % 2 == 1) q.excluded = &excluded_;
    if (i % 3 == 1) q.allowed = &allowed_;
    return q;
  }

  std::shared_ptr<const ItemMatrix> items_;
  std::vector<std::vector<float>> queries_;
  ExclusionSet excluded_;
  ItemBitmap allowed_;
};

TEST_F(ParallelScanTest, SplitScansEqualTheSingleThreadedScan) {
  const ExactScorer serial(items_);
  ASSERT_EQ(serial.Parts(), 1u);
  for (int threads : {2, 3, 5}) {
    auto pool = std::make_shared<ScanPool>(threads);
    const ExactScorer split(items_, ExactScorerOptions{pool, 1000});
    ASSERT_EQ(split.Parts(), static_cast<size_t>(threads));
    for (size_t i = 0; i < queries_.size(); ++i) {
      ExpectSameItems(split.TopK(Query(i)), serial.TopK(Query(i)), "TopK");
    }
    std::vector<ScoringQuery> batch;
    for (size_t i = 0; i < queries_.size(); ++i) batch.push_back(Query(i));
    const std::vector<ScoringResult> want = serial.TopKBatch(batch);
    const std::vector<ScoringResult> got = split.TopKBatch(batch);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ExpectSameItems(got[i], want[i], "TopKBatch");
  }
}

TEST_F(ParallelScanTest, ALoneQueryScoresAsInABatch) {
  // Whether the batcher scores a query alone or with others, its answer is
  // the same to the last bit of every score.
  for (size_t parts_min : {size_t{100000}, size_t{1000}}) {
    const ExactScorer scorer(items_, ExactScorerOptions{std::make_shared<ScanPool>(2), parts_min});
    std::vector<ScoringQuery> batch;
    for (size_t i = 0; i < 20; ++i) batch.push_back(Query(i));
    const std::vector<ScoringResult> together = scorer.TopKBatch(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      ExpectSameItems(scorer.TopK(batch[i]), together[i], "alone vs batched");
    }
  }
}

TEST_F(ParallelScanTest, ScaledScansAloneBatchedAndSplitEqualAScaledCopy) {
  // Row scales (cosine through inverse norms) against a copy of the matrix
  // with its rows scaled, scanned unscaled and unsplit.
  auto scales = std::make_shared<const std::vector<float>>(items_->InverseNorms());
  auto copy = std::make_shared<ItemMatrix>(items_->rows(), items_->dims());
  for (size_t i = 0; i < items_->rows(); ++i) {
    for (size_t d = 0; d < items_->dims(); ++d) {
      copy->mutable_row(i)[d] = items_->row(i)[d] * (*scales)[i];
    }
  }
  const ExactScorer reference(copy);
  std::vector<ScoringQuery> batch;
  for (size_t i = 0; i < 20; ++i) batch.push_back(Query(i));
  const std::vector<ScoringResult> want = reference.TopKBatch(batch);
  for (size_t parts_min : {size_t{100000}, size_t{1000}}) {
    ExactScorerOptions options{std::make_shared<ScanPool>(3), parts_min};
    options.row_scales = scales;
    const ExactScorer scaled(items_, options);
    ASSERT_EQ(scaled.Parts(), parts_min == 1000 ? 3u : 1u);
    const std::vector<ScoringResult> together = scaled.TopKBatch(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      ExpectSameItems(together[i], want[i], "scaled batch vs scaled copy");
      ExpectSameItems(scaled.TopK(batch[i]), want[i], "scaled alone vs scaled copy");
      ExpectSameItems(reference.TopK(batch[i]), want[i], "copy alone vs copy batched");
    }
  }
}

TEST_F(ParallelScanTest, TiesRankTheLowerIndexFirstAcrossRanges) {
  // Every row the same: all scores tie, so the answer is the k lowest
  // indices not excluded, whichever range holds them.
  std::vector<float> dense(5000 * kDims, 0.5f);
  std::shared_ptr<const ItemMatrix> same = ItemMatrix::FromDense(dense, 5000, kDims);
  auto pool = std::make_shared<ScanPool>(4);
  const ExactScorer split(same, ExactScorerOptions{pool, 256});
  ASSERT_EQ(split.Parts(), 4u);
  const ExclusionSet excluded({0, 2, 4});
  const ScoringResult r = split.TopK({queries_[0], 5, &excluded});
  std::vector<uint32_t> indices;
  for (const ScoredIndex& s : r.items) indices.push_back(s.index);
  EXPECT_THAT(indices, ::testing::ElementsAre(1, 3, 5, 6, 7));
}

TEST_F(ParallelScanTest, SmallMatricesAreNotSplit) {
  auto pool = std::make_shared<ScanPool>(4);
  EXPECT_EQ(ExactScorer(items_, ExactScorerOptions{pool}).Parts(), 1u);  // 16k rows per part
  EXPECT_EQ(ExactScorer(items_, ExactScorerOptions{pool, 4000}).Parts(), 2u);
  EXPECT_EQ(ExactScorer(items_, ExactScorerOptions{std::make_shared<ScanPool>(1), 10}).Parts(),
            1u);
}

TEST(ScanPoolTest, RunsEveryPartOnceOnSeveralThreads) {
  ScanPool pool(3);
  EXPECT_EQ(pool.parallelism(), 3);
  std::vector<std::atomic<int>> runs(50);
  std::mutex mu;
  std::set<std::thread::id> threads;
  // Each part waits until three threads took parts (or gives up after a
  // while), so the workers must have joined in.
  std::atomic<int> started{0};
  pool.Run(runs.size(), [&](size_t part) {
    ++runs[part];
    {
      std::lock_guard<std::mutex> lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    if (started.fetch_add(1) < 3) {
      for (int i = 0; i < 2000; ++i) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (threads.size() >= 3) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  });
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "part " << i;
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_TRUE(threads.count(std::this_thread::get_id())) << "the caller ran no part";
}

TEST(ScanPoolTest, AThrowingPartIsRethrownAfterEveryPartEnded) {
  ScanPool pool(2);
  std::atomic<int> ended{0};
  EXPECT_THROW(pool.Run(8,
                        [&](size_t part) {
                          if (part == 1) {
                            ++ended;
                            throw std::runtime_error("range failed");
                          }
                          std::this_thread::sleep_for(std::chrono::milliseconds(2));
                          ++ended;
                        }),
               std::runtime_error);
  EXPECT_EQ(ended.load(), 8);
  // Still usable.
  std::atomic<int> again{0};
  pool.Run(4, [&](size_t) { ++again; });
  EXPECT_EQ(again.load(), 4);
}

TEST(ScanPoolTest, ConcurrentRunsShareTheWorkers) {
  ScanPool pool(2);
  std::vector<std::thread> callers;
  std::atomic<int> total{0};
  for (int c = 0; c < 6; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) pool.Run(5, [&](size_t) { ++total; });
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 6 * 50 * 5);
}

}  // namespace
}  // namespace affinity::server
