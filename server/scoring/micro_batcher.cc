#include "server/scoring/micro_batcher.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

// The deadline on the steady clock the waits use; nullopt for none (or one
// so far off that converting it could overflow).
std::optional<steady_clock::time_point> ToSteady(system_clock::time_point deadline) {
  constexpr auto kFar = std::chrono::hours(24 * 365);
  if (deadline == system_clock::time_point::max()) return std::nullopt;
  const system_clock::time_point now = system_clock::now();
  if (deadline <= now) return steady_clock::now();
  if (deadline - now > kFar) return std::nullopt;
  return steady_clock::now() +
         std::chrono::duration_cast<steady_clock::duration>(deadline - now);
}

bool Passed(const std::optional<steady_clock::time_point>& deadline,
            steady_clock::time_point now = steady_clock::now()) {
  return deadline.has_value() && now >= *deadline;
}

double Seconds(steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

absl::Status DeadlineExceeded(absl::string_view when) {
  return absl::DeadlineExceededError(absl::StrCat("deadline exceeded ", when));
}

// Runs `score`, turning whatever it throws into INTERNAL.
template <typename Fn>
absl::StatusOr<std::vector<ScoringResult>> Guarded(const Scorer& scorer, Fn score) {
  try {
    return score();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("scoring (", scorer.name(), ") failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("scoring (", scorer.name(), ") failed: unknown exception"));
  }
}

}  // namespace

// One caller's query, held so that a pass owns everything it scores (the
// caller may leave while its pass runs): its vector and exclusions copied,
// its allowed items (and their scan) shared through the query's owner
// (without one, the items copied and the scan left out).
struct MicroBatcher::Entry {
  enum class State { kQueued, kScoring, kDone, kExpired };

  Entry(const Scorer* scorer, const ScoringQuery& query,
        std::optional<steady_clock::time_point> deadline)
      : scorer(scorer),
        deadline(deadline),
        enqueued(steady_clock::now()),
        vector(query.vector.begin(), query.vector.end()),
        k(query.k),
        owner(query.owner),
        shared_allowed(query.owner != nullptr ? query.allowed : nullptr),
        also_allowed(query.owner != nullptr ? query.also_allowed : nullptr),
        allowed_scan(query.owner != nullptr ? query.allowed_scan : nullptr) {
    if (query.excluded != nullptr) excluded = *query.excluded;
    if (query.owner == nullptr && query.allowed != nullptr) allowed_copy = *query.allowed;
  }
  ScoringQuery Query() const {
    ScoringQuery q{vector, k, excluded.has_value() ? &*excluded : nullptr};
    q.allowed = allowed_copy.has_value() ? &*allowed_copy : shared_allowed;
    q.also_allowed = also_allowed;
    q.allowed_scan = allowed_scan;
    q.owner = owner;
    return q;
  }

  const Scorer* scorer;
  const std::optional<steady_clock::time_point> deadline;
  const steady_clock::time_point enqueued;
  std::vector<float> vector;
  size_t k;
  std::optional<ExclusionSet> excluded;
  const std::shared_ptr<const void> owner;
  const ItemBitmap* const shared_allowed;      // kept alive by owner
  const ItemPredicate* const also_allowed;     // kept alive by owner
  const AllowedScan* const allowed_scan;       // kept alive by owner (null without one)
  std::optional<ItemBitmap> allowed_copy;      // without an owner

  // The caller waits on it (with mu_): notified when its state changes and
  // when it is the oldest queued entry and no pass runs (it runs the next).
  std::condition_variable cv;
  // Guarded by mu_. `result` is written by the pass (without mu_) before
  // state turns kDone, and read by the caller after.
  State state = State::kQueued;
  absl::Status status;
  ScoringResult result;
  steady_clock::time_point pass_start;
  double pass_seconds = 0;
  size_t pass_queries = 0;
};

MicroBatcher::MicroBatcher(MicroBatcherOptions options) : options_(std::move(options)) {
  if (options_.max_batch == 0) options_.max_batch = 1;
}

absl::Status MicroBatcher::ScoreEntries(const Scorer& scorer,
                                        const std::vector<std::shared_ptr<Entry>>& entries) {
  std::vector<ScoringQuery> queries;
  queries.reserve(entries.size());
  for (const auto& entry : entries) queries.push_back(entry->Query());
  absl::StatusOr<std::vector<ScoringResult>> results =
      Guarded(scorer, [&] {
        return queries.size() == 1 ? std::vector<ScoringResult>{scorer.TopK(queries[0])}
                                   : scorer.TopKBatch(queries);
      });
  if (!results.ok()) return results.status();
  if (results->size() != queries.size()) {
    return absl::InternalError(absl::StrCat("scoring (", scorer.name(), ") returned ",
                                            results->size(), " results for ", queries.size(),
                                            " queries"));
  }
  for (size_t i = 0; i < entries.size(); ++i) entries[i]->result = std::move((*results)[i]);
  return absl::OkStatus();
}

void MicroBatcher::WakeNextRunner() {
  if (!running_ && !queue_.empty()) queue_.front()->cv.notify_one();
}

void MicroBatcher::Dequeue(const Entry* entry) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [entry](const std::shared_ptr<Entry>& e) { return e.get() == entry; });
  if (it != queue_.end()) queue_.erase(it);
}

void MicroBatcher::RunPass(std::unique_lock<std::mutex>& lock, const Scorer& scorer) {
  running_ = true;
  // The oldest queued queries for this scorer; queued ones whose deadline
  // passed are dropped (their callers give up).
  std::vector<std::shared_ptr<Entry>> batch;
  const steady_clock::time_point now = steady_clock::now();
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < options_.max_batch;) {
    Entry& entry = **it;
    if (Passed(entry.deadline, now)) {
      entry.state = Entry::State::kExpired;
      entry.cv.notify_one();
      it = queue_.erase(it);
    } else if (entry.scorer == &scorer) {
      entry.state = Entry::State::kScoring;
      batch.push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  if (batch.empty()) {
    running_ = false;
    WakeNextRunner();
    return;
  }
  ++batches_;
  batched_queries_ += batch.size();
  lock.unlock();
  const steady_clock::time_point start = steady_clock::now();
  const absl::Status status = ScoreEntries(scorer, batch);
  const double seconds = Seconds(steady_clock::now() - start);
  lock.lock();
  for (const auto& entry : batch) {
    entry->status = status;
    entry->pass_start = start;
    entry->pass_seconds = seconds;
    entry->pass_queries = batch.size();
    entry->state = Entry::State::kDone;
    entry->cv.notify_one();
  }
  running_ = false;
  WakeNextRunner();
  if (options_.on_pass) {
    lock.unlock();
    options_.on_pass(PassStats{batch.size(), seconds});
    lock.lock();
  }
}

absl::StatusOr<ScoringResult> MicroBatcher::Score(const Scorer& scorer,
                                                  const ScoringQuery& query,
                                                  system_clock::time_point deadline,
                                                  ScoreTiming* timing) {
  const std::optional<steady_clock::time_point> until = ToSteady(deadline);
  if (Passed(until)) return DeadlineExceeded("before scoring");
  if (options_.max_batch <= 1 || !scorer.BenefitsFromBatching()) {
    const steady_clock::time_point start = steady_clock::now();
    absl::StatusOr<std::vector<ScoringResult>> result =
        Guarded(scorer, [&] { return std::vector<ScoringResult>{scorer.TopK(query)}; });
    if (!result.ok()) return result.status();
    if (timing != nullptr) *timing = {0, Seconds(steady_clock::now() - start), 1};
    return std::move(result->front());
  }

  if (query.also_allowed != nullptr && query.owner == nullptr) {
    return absl::InvalidArgumentError("a batched query's also_allowed needs an owner");
  }
  auto entry = std::make_shared<Entry>(&scorer, query, until);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(entry);
  if (running_) gather_cv_.notify_one();  // a pass being gathered may now be full
  using State = Entry::State;
  // Passes serve the oldest queued query's scorer first: a caller may start
  // one only when that is its own scorer (the pass then takes the oldest
  // queries for it, the oldest of all among them). Otherwise the caller of
  // the oldest query runs it (WakeNextRunner wakes it), so queries for a
  // version that gets few (the old one during a swap, a small arm of a
  // rollout) are not passed over by a stream of newer ones for another.
  auto may_run = [&] {
    return !running_ && entry->state == State::kQueued && queue_.front()->scorer == &scorer;
  };
  while (entry->state != State::kDone) {
    if (entry->state == State::kExpired) {
      return DeadlineExceeded("while queued for a scoring pass");
    }
    if (may_run()) {
      if (Passed(until)) {
        Dequeue(entry.get());
        WakeNextRunner();
        return DeadlineExceeded("while queued for a scoring pass");
      }
      // Nothing runs: this caller runs the next pass (after the gathering
      // delay, when there is one).
      if (options_.window.count() > 0) {
        running_ = true;
        auto count = [&] {
          size_t n = 0;
          for (const auto& e : queue_) n += e->scorer == &scorer;
          return n;
        };
        steady_clock::time_point oldest = entry->enqueued;
        for (const auto& e : queue_) {
          if (e->scorer == &scorer) oldest = std::min(oldest, e->enqueued);
        }
        steady_clock::time_point gather_until = oldest + options_.window;
        if (until.has_value()) gather_until = std::min(gather_until, *until);
        gather_cv_.wait_until(lock, gather_until,
                              [&] { return count() >= options_.max_batch; });
        if (Passed(until)) {
          Dequeue(entry.get());
          running_ = false;
          WakeNextRunner();  // another caller runs the pass
          return DeadlineExceeded("while gathering a scoring pass");
        }
      }
      RunPass(lock, scorer);
      continue;
    }
    auto ready = [&] {
      return entry->state == State::kDone || entry->state == State::kExpired || may_run();
    };
    if (!until.has_value()) {
      entry->cv.wait(lock, ready);
    } else if (!entry->cv.wait_until(lock, *until, ready)) {
      if (entry->state == State::kQueued) {
        Dequeue(entry.get());
        WakeNextRunner();  // the next oldest may be another scorer's, waiting for its turn
        return DeadlineExceeded("while queued for a scoring pass");
      }
      // kScoring: the pass scores its own copy; its result is dropped.
      return DeadlineExceeded("while its scoring pass ran");
    }
  }
  if (!entry->status.ok()) return entry->status;
  if (timing != nullptr) {
    *timing = {Seconds(entry->pass_start - entry->enqueued), entry->pass_seconds,
               entry->pass_queries};
  }
  return std::move(entry->result);
}

size_t MicroBatcher::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

size_t MicroBatcher::batched_queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batched_queries_;
}

size_t MicroBatcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace affinity::server
