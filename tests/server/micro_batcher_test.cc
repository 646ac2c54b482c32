// MicroBatcher: batches that follow the load (a lone query is scored at
// once on its caller's thread; queries arriving during a pass are scored
// together by the next one, max_batch at most), and what happens when
// scoring fails or takes longer than callers may wait: a pass whose scoring
// throws gives every query in it an error (none waits forever, nothing
// escapes the call); a caller whose deadline passes stops waiting with
// DEADLINE_EXCEEDED, whether its query was queued (it is then never scored)
// or already being scored (the pass scored its own copy of the query, so
// the caller's memory may go).
#include <chrono>
#include <condition_variable>
#include <map>
#include <atomic>
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
// was given, the size of each call and the thread that made it (read after
// the release).
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
    sizes_.push_back(queries.size());
    threads_.push_back(std::this_thread::get_id());
    std::vector<ScoringResult> out;
    for (const ScoringQuery& q : queries) {
      seen_.emplace_back(q.vector.begin(), q.vector.end());
      filters_.emplace_back(q.allowed, q.also_allowed);
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
  std::vector<size_t> sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }
  std::vector<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }
  // Per query scored: its allowed bitmap and predicate.
  std::vector<std::pair<const ItemBitmap*, const ItemPredicate*>> filters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return filters_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int entered_ = 0;
  bool released_ = false;
  mutable std::vector<std::vector<float>> seen_;
  mutable std::vector<size_t> sizes_;
  mutable std::vector<std::thread::id> threads_;
  mutable std::vector<std::pair<const ItemBitmap*, const ItemPredicate*>> filters_;
};

// Waits until `n` queries wait in `batcher`'s queue.
bool WaitQueued(const MicroBatcher& batcher, size_t n) {
  const auto until = std::chrono::steady_clock::now() + kHang;
  while (batcher.queued() < n) {
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

TEST(MicroBatcherFailureTest, ScoringThatThrowsAloneIsAnError) {
  ThrowingScorer scorer;
  for (size_t max_batch : {1, 32}) {
    MicroBatcher batcher({std::chrono::microseconds(0), max_batch});
    const std::vector<float> vector(3, 1.0f);
    ExclusionSet none;
    const absl::StatusOr<ScoringResult> r = batcher.Score(scorer, {vector, 5, &none});
    EXPECT_TRUE(absl::IsInternal(r.status())) << max_batch << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("scan failed"));
  }
}

TEST(MicroBatcherFailureTest, DeadlinePassingWhileTheBatchIsScoredStopsTheWait) {
  GatedScorer scorer;
  MicroBatcher batcher({seconds(60), 2});
  auto opener = ScoreAsync(batcher, scorer, 7);
  ASSERT_TRUE(WaitQueued(batcher, 1));
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
  // A 60 s gathering window: the pass starts when three queries are queued.
  MicroBatcher batcher({seconds(60), 3});
  auto opener = ScoreAsync(batcher, scorer, 4);
  ASSERT_TRUE(WaitQueued(batcher, 1));
  auto late = ScoreAsync(batcher, scorer, 5, system_clock::now() + milliseconds(50));
  const bool returned = late.wait_for(kHang) == std::future_status::ready;
  EXPECT_TRUE(returned) << "the caller kept waiting past its deadline";
  // It left the queue: two more queries fill the pass.
  ASSERT_TRUE(WaitQueued(batcher, 1));
  EXPECT_EQ(batcher.queued(), 1u);
  auto second = ScoreAsync(batcher, scorer, 6);
  auto third = ScoreAsync(batcher, scorer, 7);
  for (auto* f : {&opener, &second, &third, &late}) {
    ASSERT_EQ(f->wait_for(kHang * 4), std::future_status::ready);
  }
  const absl::StatusOr<ScoringResult> late_result = late.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(late_result.status())) << late_result.status();
  for (auto [future, value] :
       {std::pair{&opener, 4u}, std::pair{&second, 6u}, std::pair{&third, 7u}}) {
    const absl::StatusOr<ScoringResult> r = future->get();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->items.size(), 1u);
    EXPECT_EQ(r->items[0].index, value);
  }
  EXPECT_THAT(scorer.sizes(), ElementsAre(3u));
  EXPECT_EQ(batcher.batched_queries(), 3u);
  for (const std::vector<float>& v : scorer.seen()) EXPECT_NE(v[0], 5.0f) << "scored after it left";
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
  EXPECT_EQ(batcher.queued(), 0u);
}

TEST(MicroBatcherFailureTest, PassedDeadlineIsNotScored) {
  GatedScorer scorer;
  scorer.Release();
  for (size_t max_batch : {1, 32}) {
    MicroBatcher batcher({std::chrono::microseconds(0), max_batch});
    const std::vector<float> vector(3, 1.0f);
    ExclusionSet none;
    const absl::StatusOr<ScoringResult> r =
        batcher.Score(scorer, {vector, 5, &none}, system_clock::now() - seconds(1));
    EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  }
  EXPECT_TRUE(scorer.seen().empty());
}

TEST(MicroBatcherFailureTest, DeadlinePassingWhileQueuedBehindASlowPassEndsTheWait) {
  GatedScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 32});
  auto first = ScoreAsync(batcher, scorer, 1);
  ASSERT_TRUE(scorer.WaitEntered());  // the first pass holds the scorer
  auto late = ScoreAsync(batcher, scorer, 2, system_clock::now() + milliseconds(50));
  auto patient = ScoreAsync(batcher, scorer, 3);
  // Answered at its deadline while the pass still runs (the gate is shut).
  ASSERT_EQ(late.wait_for(kHang), std::future_status::ready)
      << "a queued caller kept waiting past its deadline";
  const absl::StatusOr<ScoringResult> late_result = late.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(late_result.status())) << late_result.status();
  ASSERT_TRUE(WaitQueued(batcher, 1));
  EXPECT_EQ(batcher.queued(), 1u) << "the late query is still queued";

  scorer.Release();
  for (auto* f : {&first, &patient}) ASSERT_EQ(f->wait_for(kHang), std::future_status::ready);
  const absl::StatusOr<ScoringResult> r = patient.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items[0].index, 3u);
  ASSERT_TRUE(first.get().ok());
  // Never scored: the next pass held the patient query alone.
  EXPECT_THAT(scorer.seen(), ElementsAre(ElementsAre(1, 1, 1), ElementsAre(3, 3, 3)));
  EXPECT_THAT(scorer.sizes(), ElementsAre(1u, 1u));
}

TEST(MicroBatcherTest, LoneQueryIsScoredAtOnceOnItsOwnThread) {
  GatedScorer scorer;
  scorer.Release();
  std::vector<PassStats> passes;
  std::mutex passes_mu;
  MicroBatcherOptions options;
  options.max_batch = 32;
  options.on_pass = [&](const PassStats& pass) {
    std::lock_guard<std::mutex> lock(passes_mu);
    passes.push_back(pass);
  };
  MicroBatcher batcher(options);
  const std::vector<float> vector(3, 8.0f);
  ExclusionSet none;
  ScoreTiming timing;
  // No other query will come: a batcher that waited for company (or for a
  // window) would never return here.
  const absl::StatusOr<ScoringResult> r = batcher.Score(
      scorer, {vector, 5, &none}, system_clock::time_point::max(), &timing);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items[0].index, 8u);
  EXPECT_THAT(scorer.threads(), ElementsAre(std::this_thread::get_id()));
  EXPECT_EQ(batcher.batches(), 1u);
  EXPECT_EQ(batcher.queued(), 0u);
  EXPECT_EQ(timing.batch, 1u);
  std::lock_guard<std::mutex> lock(passes_mu);
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_EQ(passes[0].queries, 1u);
}

TEST(MicroBatcherTest, QueriesArrivingDuringASlowPassShareTheNextOne) {
  GatedScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 32});
  auto first = ScoreAsync(batcher, scorer, 1);
  ASSERT_TRUE(scorer.WaitEntered());
  std::vector<std::future<absl::StatusOr<ScoringResult>>> waiting;
  for (int i = 2; i <= 6; ++i) waiting.push_back(ScoreAsync(batcher, scorer, i));
  ASSERT_TRUE(WaitQueued(batcher, 5));
  scorer.Release();
  ASSERT_EQ(first.wait_for(kHang), std::future_status::ready);
  ASSERT_TRUE(first.get().ok());
  for (size_t i = 0; i < waiting.size(); ++i) {
    ASSERT_EQ(waiting[i].wait_for(kHang), std::future_status::ready);
    const absl::StatusOr<ScoringResult> r = waiting[i].get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->items[0].index, i + 2) << "a caller got another query's answer";
  }
  EXPECT_THAT(scorer.sizes(), ElementsAre(1u, 5u));
  EXPECT_EQ(batcher.batches(), 2u);
  EXPECT_EQ(batcher.batched_queries(), 6u);
}

// A queued query's allowed bitmap and predicate are shared through its
// owner, not copied (a rule set's bitmap has a bit per catalog item), and
// stay alive while the query waits, whoever else lets go of them.
TEST(MicroBatcherTest, AQueuedQuerysFiltersAreSharedThroughItsOwner) {
  struct Filters : ItemPredicate {
    ItemBitmap allowed{1000};
    bool Allows(uint32_t index) const override { return index % 2 == 0; }
  };
  GatedScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 32});
  auto first = ScoreAsync(batcher, scorer, 1);
  ASSERT_TRUE(scorer.WaitEntered());
  auto filters = std::make_shared<Filters>();
  const ItemBitmap* const allowed = &filters->allowed;
  const ItemPredicate* const predicate = filters.get();
  std::weak_ptr<Filters> watch = filters;
  auto queued = std::async(std::launch::async, [&batcher, &scorer, filters]() mutable {
    std::vector<float> vector(3, 7.0f);
    ScoringQuery query{vector, 5, nullptr};
    query.allowed = &filters->allowed;
    query.also_allowed = filters.get();
    query.owner = std::move(filters);
    return batcher.Score(scorer, query, system_clock::time_point::max());
  });
  filters.reset();
  ASSERT_TRUE(WaitQueued(batcher, 1));
  EXPECT_FALSE(watch.expired()) << "the queued query must keep its filters alive";
  scorer.Release();
  ASSERT_EQ(queued.wait_for(kHang), std::future_status::ready);
  ASSERT_TRUE(queued.get().ok());
  ASSERT_TRUE(first.get().ok());
  const auto seen = scorer.filters();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].first, allowed) << "the bitmap was copied";
  EXPECT_EQ(seen[1].second, predicate);
  EXPECT_TRUE(watch.expired());

  // A predicate without an owner cannot wait in a queue.
  Filters loose;
  std::vector<float> vector(3, 1.0f);
  ScoringQuery query{vector, 5, nullptr};
  query.also_allowed = &loose;
  EXPECT_TRUE(absl::IsInvalidArgument(
      batcher.Score(scorer, query, system_clock::time_point::max()).status()));
}

TEST(MicroBatcherTest, PassesHoldAtMostMaxBatchQueriesOldestFirst) {
  GatedScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 3});
  auto first = ScoreAsync(batcher, scorer, 1);
  ASSERT_TRUE(scorer.WaitEntered());
  std::vector<std::future<absl::StatusOr<ScoringResult>>> waiting;
  for (int i = 2; i <= 8; ++i) {
    waiting.push_back(ScoreAsync(batcher, scorer, i));
    ASSERT_TRUE(WaitQueued(batcher, i - 1));  // queued in this order
  }
  scorer.Release();
  for (auto& f : waiting) ASSERT_EQ(f.wait_for(kHang), std::future_status::ready);
  ASSERT_EQ(first.wait_for(kHang), std::future_status::ready);
  EXPECT_THAT(scorer.sizes(), ElementsAre(1u, 3u, 3u, 1u));
  const std::vector<std::vector<float>> seen = scorer.seen();
  ASSERT_EQ(seen.size(), 8u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i][0], i + 1.0f) << "not oldest first";
}

// Answers each query with its first value plus `offset` (two models served
// side by side).
class OffsetScorer : public Scorer {
 public:
  explicit OffsetScorer(float offset) : offset_(offset) {}
  const char* name() const override { return "offset"; }
  size_t items() const override { return 1000; }
  ScoringResult TopK(const ScoringQuery& query) const override {
    ScoringResult r;
    r.items.push_back(ScoredIndex{static_cast<uint32_t>(query.vector[0] + offset_), 0});
    return r;
  }
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery> queries) const override {
    std::vector<ScoringResult> out;
    for (const ScoringQuery& q : queries) out.push_back(TopK(q));
    return out;
  }
  bool BenefitsFromBatching() const override { return true; }

 private:
  float offset_;
};

TEST(MicroBatcherTest, QueriesForDifferentScorersAreNeverMixed) {
  OffsetScorer a(100), b(200);
  MicroBatcher batcher({std::chrono::microseconds(0), 8});
  constexpr int kThreads = 8;
  constexpr int kCalls = 200;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0}, failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Scorer& scorer = t % 2 == 0 ? static_cast<const Scorer&>(a) : b;
      const uint32_t offset = t % 2 == 0 ? 100 : 200;
      for (int i = 0; i < kCalls; ++i) {
        const std::vector<float> vector(3, static_cast<float>(t * 1000 + i));
        ExclusionSet none;
        const absl::StatusOr<ScoringResult> r = batcher.Score(scorer, {vector, 1, &none});
        if (!r.ok()) {
          ++failed;
        } else if (r->items[0].index != static_cast<uint32_t>(t * 1000 + i) + offset) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(batcher.batched_queries(), static_cast<size_t>(kThreads * kCalls));
  EXPECT_EQ(batcher.queued(), 0u);
}


// Takes 1 ms per pass, so queues form behind it; counts its passes.
class SlowOffsetScorer : public OffsetScorer {
 public:
  SlowOffsetScorer() : OffsetScorer(0) {}
  ScoringResult TopK(const ScoringQuery& query) const override {
    std::this_thread::sleep_for(milliseconds(1));
    ++passes_;
    return OffsetScorer::TopK(query);
  }
  std::vector<ScoringResult> TopKBatch(absl::Span<const ScoringQuery> queries) const override {
    std::this_thread::sleep_for(milliseconds(1));
    ++passes_;
    std::vector<ScoringResult> out;
    for (const ScoringQuery& q : queries) out.push_back(OffsetScorer::TopK(q));
    return out;
  }
  int passes() const { return passes_.load(); }

 private:
  mutable std::atomic<int> passes_{0};
};

// Two versions served at once (the old one during a swap, or a small arm
// of a rollout beside a large one): a query for the one that gets few
// queries is scored after at most the passes already due before it, not
// passed over by the stream of newer queries for the other. (A caller
// that had just been served used to start the next pass for its own
// version at once, before the woken caller of the older query got the
// lock, again and again.)
TEST(MicroBatcherTest, AQueryForAQuieterScorerIsNotPassedOverByNewerOnes) {
  SlowOffsetScorer busy, quiet;
  MicroBatcher batcher({std::chrono::microseconds(0), 8});
  std::atomic<bool> stop{false};
  std::vector<std::thread> stream;
  for (int t = 0; t < 4; ++t) {
    stream.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::vector<float> vector(3, static_cast<float>(t * 100000 + i));
        ExclusionSet none;
        EXPECT_TRUE(batcher.Score(busy, {vector, 1, &none}).ok());
      }
    });
  }
  const auto give_up = std::chrono::steady_clock::now() + kHang;
  while (busy.passes() < 20 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_GE(busy.passes(), 20);
  for (int i = 0; i < 10; ++i) {
    const int before = busy.passes();
    const std::vector<float> vector(3, static_cast<float>(7 + i));
    ExclusionSet none;
    const absl::StatusOr<ScoringResult> r =
        batcher.Score(quiet, {vector, 1, &none}, system_clock::now() + seconds(2));
    const int busy_passes_meanwhile = busy.passes() - before;
    ASSERT_TRUE(r.ok()) << r.status() << " (call " << i << ")";
    EXPECT_EQ(r->items[0].index, static_cast<uint32_t>(7 + i));
    // The pass in flight, then one for the busy queries queued before it
    // (8 fit in one pass; 4 threads queue at most 4), then its own.
    EXPECT_LE(busy_passes_meanwhile, 2) << "call " << i;
  }
  stop = true;
  for (auto& t : stream) t.join();
  EXPECT_EQ(quiet.passes(), 10);
  EXPECT_EQ(batcher.queued(), 0u);
}

// Callers are woken one by one (a pass's own callers, then the next runner):
// with callers leaving at their deadlines from the queue, from a pass and
// from the head of the queue, every call still returns and the queue empties.
TEST(MicroBatcherTest, EveryCallReturnsWhenDeadlinesCutTheQueue) {
  SlowOffsetScorer scorer;
  MicroBatcher batcher({std::chrono::microseconds(0), 4});
  constexpr int kThreads = 12;
  constexpr int kCalls = 60;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, expired{0}, wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::vector<float> vector(3, static_cast<float>(t * 1000 + i));
        ExclusionSet none;
        // Every other call may wait 0.1 to 2 ms only.
        const auto deadline = (t + i) % 2 == 0
                                  ? system_clock::time_point::max()
                                  : system_clock::now() + std::chrono::microseconds(100 + 100 * (i % 20));
        const absl::StatusOr<ScoringResult> r = batcher.Score(scorer, {vector, 1, &none}, deadline);
        if (r.ok()) {
          ++ok;
          if (r->items[0].index != static_cast<uint32_t>(t * 1000 + i)) ++wrong;
        } else if (r.status().code() == absl::StatusCode::kDeadlineExceeded) {
          ++expired;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load() + expired.load(), kThreads * kCalls);
  EXPECT_GE(ok.load(), kThreads * kCalls / 2);  // those without a deadline
  EXPECT_GT(expired.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(batcher.queued(), 0u);
}

}  // namespace
}  // namespace affinity::server
