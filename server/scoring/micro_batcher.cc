#include "server/scoring/micro_batcher.h"

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

bool Passed(const std::optional<steady_clock::time_point>& deadline) {
  return deadline.has_value() && steady_clock::now() >= *deadline;
}

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

// One caller's query, copied so that the batch owns everything it scores.
struct MicroBatcher::Entry {
  explicit Entry(const ScoringQuery& query)
      : vector(query.vector.begin(), query.vector.end()), k(query.k) {
    if (query.excluded != nullptr) excluded = *query.excluded;
    if (query.allowed != nullptr) allowed = *query.allowed;
  }
  ScoringQuery Query() const {
    ScoringQuery q{vector, k, excluded.has_value() ? &*excluded : nullptr};
    q.allowed = allowed.has_value() ? &*allowed : nullptr;
    return q;
  }

  std::vector<float> vector;
  size_t k;
  std::optional<ExclusionSet> excluded;
  std::optional<ItemBitmap> allowed;
  // Its caller stopped waiting before scoring began: not scored.
  bool abandoned = false;
  ScoringResult result;
};

struct MicroBatcher::Batch {
  const Scorer* scorer = nullptr;
  std::vector<std::unique_ptr<Entry>> entries;
  bool closed = false;  // scoring began; entries no longer change
  bool done = false;    // results (or status) are set
  absl::Status status;
};

MicroBatcher::MicroBatcher(MicroBatcherOptions options) : options_(options) {
  if (options_.max_batch == 0) options_.max_batch = 1;
}

template <typename Done>
bool MicroBatcher::WaitUntil(std::unique_lock<std::mutex>& lock,
                             std::optional<steady_clock::time_point> deadline, Done done) {
  if (!deadline.has_value()) {
    cv_.wait(lock, done);
    return true;
  }
  return cv_.wait_until(lock, *deadline, done);
}

absl::Status MicroBatcher::ScoreBatch(const Scorer& scorer, Batch& batch) {
  std::vector<Entry*> scored;
  std::vector<ScoringQuery> queries;
  for (const auto& entry : batch.entries) {
    if (entry->abandoned) continue;
    scored.push_back(entry.get());
    queries.push_back(entry->Query());
  }
  if (queries.empty()) return absl::OkStatus();
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
  for (size_t i = 0; i < scored.size(); ++i) scored[i]->result = std::move((*results)[i]);
  return absl::OkStatus();
}

absl::StatusOr<ScoringResult> MicroBatcher::Score(const Scorer& scorer,
                                                  const ScoringQuery& query,
                                                  system_clock::time_point deadline) {
  const std::optional<steady_clock::time_point> until = ToSteady(deadline);
  if (Passed(until)) return DeadlineExceeded("before scoring");
  if (options_.window.count() <= 0 || options_.max_batch <= 1 ||
      !scorer.BenefitsFromBatching()) {
    absl::StatusOr<std::vector<ScoringResult>> result =
        Guarded(scorer, [&] { return std::vector<ScoringResult>{scorer.TopK(query)}; });
    if (!result.ok()) return result.status();
    return std::move(result->front());
  }

  std::unique_lock<std::mutex> lock(mu_);
  if (open_ != nullptr && open_->scorer == &scorer &&
      open_->entries.size() < options_.max_batch) {
    // Join the open batch; its opener scores it.
    std::shared_ptr<Batch> batch = open_;
    batch->entries.push_back(std::make_unique<Entry>(query));
    Entry* entry = batch->entries.back().get();
    if (batch->entries.size() >= options_.max_batch) {
      open_ = nullptr;
      cv_.notify_all();
    }
    if (!WaitUntil(lock, until, [&] { return batch->done; })) {
      if (!batch->closed) entry->abandoned = true;
      return DeadlineExceeded("while waiting for a scoring batch");
    }
    if (!batch->status.ok()) return batch->status;
    return std::move(entry->result);
  }

  // Open a batch, gather until it is full, the window ends or the deadline
  // passes, then score it here.
  auto batch = std::make_shared<Batch>();
  batch->scorer = &scorer;
  batch->entries.push_back(std::make_unique<Entry>(query));
  Entry* own = batch->entries.back().get();
  open_ = batch;
  steady_clock::time_point gather_until = steady_clock::now() + options_.window;
  if (until.has_value() && *until < gather_until) gather_until = *until;
  cv_.wait_until(lock, gather_until,
                 [&] { return batch->entries.size() >= options_.max_batch; });
  if (open_ == batch) open_ = nullptr;
  if (Passed(until)) own->abandoned = true;
  batch->closed = true;
  size_t scoring = 0;
  for (const auto& entry : batch->entries) scoring += entry->abandoned ? 0 : 1;
  if (scoring > 0) {
    ++batches_;
    batched_queries_ += scoring;
  }
  lock.unlock();
  const absl::Status status = ScoreBatch(scorer, *batch);
  lock.lock();
  batch->status = status;
  batch->done = true;
  cv_.notify_all();
  if (own->abandoned) return DeadlineExceeded("while gathering a scoring batch");
  if (!status.ok()) return status;
  return std::move(own->result);
}

size_t MicroBatcher::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

size_t MicroBatcher::batched_queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batched_queries_;
}

size_t MicroBatcher::gathering() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_ == nullptr ? 0 : open_->entries.size();
}

}  // namespace affinity::server
