// MicroBatcher when scoring fails or takes longer than callers may wait:
// a batch whose scoring throws gives every query that joined it an error
// (none waits forever, nothing escapes the call); a caller whose deadline
// passes stops waiting with DEADLINE_EXCEEDED, whether its batch was being
// gathered (its query is then left out) or already being scored (the batch
// scored its own copy of the query, so the caller's memory may go).
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scoring/micro_batcher.h"
#include "server/scoring/scorer.h"

namespace affinity::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// How long a test waits for something that must happen before it calls it
// a hang (not a speed requirement: it happens in milliseconds).
constexpr auto kHang = seconds(10);

// Every call throws.
class ThrowingScorer : public Scorer {
 public:
  const char* name() const override { return "throwing"; }
  size_t items() const override { return 0; }
  ScoringResult TopK(const ScoringQuery&) const override {
    throw std::runtime_error("scan failed");
  }
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery>) const override {
    throw std::runtime_error("scan failed");
  }
  bool BenefitsFromBatching() const override { return true; }
};

// Holds every call until Release(); answers each query with one item whose
// index and score are the query's first value, and records the vectors it
// was given (read after the release).
class GatedScorer : public Scorer {
 public:
  const char* name() const override { return "gated"; }
  size_t items() const override { return 1000; }
  ScoringResult TopK(const ScoringQuery& query) const override {
    return TopKBatch(absl::MakeConstSpan(&query, 1))[0];
  }
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery> queries) const override {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    std::vector<ScoringResult> out;
    for (const ScoringQuery& q : queries) {
      seen_.emplace_back(q.vector.begin(), q.vector.end());
      ScoringResult r;
      r.items.push_back(ScoredIndex{static_cast<uint32_t>(q.vector[0]), q.vector[0]});
      out.push_back(std::move(r));
    }
    return out;
  }
  bool BenefitsFromBatching() const override { return true; }

  bool WaitEntered() const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kHang, [&] { return entered_ > 0; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<std::vector<float>> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int entered_ = 0;
  bool released_ = false;
  mutable std::vector<std::vector<float>> seen_;
};

// Waits until `batcher` gathers `n` queries in its open batch.
bool WaitGathering(const MicroBatcher& batcher, size_t n) {
  const auto until = std::chrono::steady_clock::now() + kHang;
  while (batcher.gathering() < n) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// Scores {value, value, value} on another thread; the vector lives only as
// long as the call, and is overwritten as soon as it returns.
std::future<absl::StatusOr<ScoringResult>> ScoreAsync(
    MicroBatcher& batcher, const Scorer& scorer, float value,
    system_clock::time_point deadline = system_clock::time_point::max()) {
  return std::async(std::launch::async, [&batcher, &scorer, value, deadline] {
    std::vector<float> vector(3, value);
    ExclusionSet none;
    absl::StatusOr<ScoringResult> result = batcher.Score(scorer, {vector, 5, &none}, deadline);
    std::fill(vector.begin(), vector.end(), -1.0f);
    return result;
  });
}

TEST(MicroBatcherFailureTest, ScoringThatThrowsFailsEveryQueryOfTheBatch) {
  ThrowingScorer scorer;
  constexpr int kQueries = 6;
  // The batch is scored once all six joined (long before its window ends).
  MicroBatcher batcher({seconds(60), kQueries});
  std::vector<std::future<absl::StatusOr<ScoringResult>>> results;
  for (int i = 0; i < kQueries; ++i) results.push_back(ScoreAsync(batcher, scorer, i));
  for (auto& result : results) {
    ASSERT_EQ(result.wait_for(kHang), std::future_status::ready) << "a query was left waiting";
    const absl::StatusOr<ScoringResult> r = result.get();
    EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("scan failed"));
  }
  EXPECT_EQ(batcher.batches(), 1u);
  EXPECT_EQ(batcher.batched_queries(), static_cast<size_t>(kQueries));
}

TEST(MicroBatcherFailureTest, ScoringThatThrowsWithoutBatchingIsAnError) {
  ThrowingScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 32});
  const std::vector<float> vector(3, 1.0f);
  ExclusionSet none;
  const absl::StatusOr<ScoringResult> r = batcher.Score(scorer, {vector, 5, &none});
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("scan failed"));
}

TEST(MicroBatcherFailureTest, DeadlinePassingWhileTheBatchIsScoredStopsTheWait) {
  GatedScorer scorer;
  MicroBatcher batcher({seconds(60), 2});
  auto opener = ScoreAsync(batcher, scorer, 7);
  ASSERT_TRUE(WaitGathering(batcher, 1));
  // Fills the batch: the opener scores both, held by the gate.
  auto late = ScoreAsync(batcher, scorer, 9, system_clock::now() + milliseconds(100));
  ASSERT_TRUE(scorer.WaitEntered());

  const bool returned = late.wait_for(kHang) == std::future_status::ready;
  EXPECT_TRUE(returned) << "the caller kept waiting past its deadline";
  scorer.Release();
  const absl::StatusOr<ScoringResult> late_result = late.get();
  if (returned) {
    EXPECT_TRUE(absl::IsDeadlineExceeded(late_result.status())) << late_result.status();
  }
  ASSERT_EQ(opener.wait_for(kHang), std::future_status::ready);
  const absl::StatusOr<ScoringResult> result = opener.get();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->items.size(), 1u);
  EXPECT_EQ(result->items[0].index, 7u);
  // The late caller's vector was overwritten when its call returned; the
  // batch scored its own copy.
  EXPECT_THAT(scorer.seen(), ElementsAre(ElementsAre(7, 7, 7), ElementsAre(9, 9, 9)));
}

TEST(MicroBatcherFailureTest, DeadlinePassingWhileTheBatchIsGatheredLeavesTheQueryOut) {
  GatedScorer scorer;
  scorer.Release();
  MicroBatcher batcher({seconds(60), 3});
  auto opener = ScoreAsync(batcher, scorer, 4);
  ASSERT_TRUE(WaitGathering(batcher, 1));
  auto late = ScoreAsync(batcher, scorer, 5, system_clock::now() + milliseconds(50));
  const bool returned = late.wait_for(kHang) == std::future_status::ready;
  EXPECT_TRUE(returned) << "the caller kept waiting past its deadline";
  // The third query fills the batch.
  auto last = ScoreAsync(batcher, scorer, 6);
  for (auto* f : {&opener, &last, &late}) {
    ASSERT_EQ(f->wait_for(kHang * 4), std::future_status::ready);
  }
  const absl::StatusOr<ScoringResult> late_result = late.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(late_result.status())) << late_result.status();
  for (auto [future, value] : {std::pair{&opener, 4u}, std::pair{&last, 6u}}) {
    const absl::StatusOr<ScoringResult> r = future->get();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->items.size(), 1u);
    EXPECT_EQ(r->items[0].index, value);
  }
  if (returned) {
    EXPECT_THAT(scorer.seen(), ElementsAre(ElementsAre(4, 4, 4), ElementsAre(6, 6, 6)));
    EXPECT_EQ(batcher.batched_queries(), 2u);
  }
}

TEST(MicroBatcherFailureTest, OpenerWhoseDeadlinePassesWhileGatheringScoresNothing) {
  GatedScorer scorer;
  scorer.Release();
  MicroBatcher batcher({seconds(60), 4});
  auto alone = ScoreAsync(batcher, scorer, 3, system_clock::now() + milliseconds(50));
  ASSERT_EQ(alone.wait_for(kHang * 6), std::future_status::ready);
  const absl::StatusOr<ScoringResult> r = alone.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_TRUE(scorer.seen().empty());
  EXPECT_EQ(batcher.gathering(), 0u);
}

TEST(MicroBatcherFailureTest, PassedDeadlineWithoutBatchingIsNotScored) {
  GatedScorer scorer;
  scorer.Release();
  MicroBatcher batcher({std::chrono::microseconds(0), 32});
  const std::vector<float> vector(3, 1.0f);
  ExclusionSet none;
  const absl::StatusOr<ScoringResult> r =
      batcher.Score(scorer, {vector, 5, &none}, system_clock::now() - seconds(1));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_TRUE(scorer.seen().empty());
}

}  // namespace
}  // namespace affinity::server
