#include "tools/loadgen/open_loop_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "grpcpp/grpcpp.h"

namespace affinity::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Call {
  int64_t index = 0;
  Clock::time_point due;
  grpc::ClientContext context;
  affinity::v1::RecommendResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<affinity::v1::RecommendResponse>>
      reader;
};

// Drains the completion queue until it is shut down, recording each call.
// `start` and `wall_start` are the same moment on the two clocks.
void Receive(grpc::CompletionQueue& queue, std::atomic<int64_t>& in_flight,
             const LoadOptions& options, LoadResult& result, Clock::time_point start,
             absl::Time wall_start, Clock::time_point& last_completion) {
  void* tag = nullptr;
  bool ok = false;
  while (queue.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    const Clock::time_point now = Clock::now();
    last_completion = now;
    const uint64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            now - call->due).count();
    const grpc::StatusCode code = call->status.error_code();
    ++result.completed;
    ++result.by_code[code];
    result.latency_all.Record(ns);
    if (code == grpc::StatusCode::OK) {
      result.latency_ok.Record(ns);
      if (call->response.fallback()) {
        ++result.fallback_answers;
        const auto& items = call->response.items();
        if (std::all_of(items.begin(), items.end(),
                        [](const affinity::v1::ScoredItem& item) { return item.from_fallback(); })) {
          ++result.fallback_only_answers;
        }
      }
    } else {
      result.latency_failed.Record(ns);
      if (!result.first_error.count(code)) result.first_error[code] = call->status.error_message();
    }
    if (options.on_answer) options.on_answer(call->index, call->status, call->response);
    if (options.on_latency) {
      options.on_latency(call->index, wall_start + absl::FromChrono(call->due - start),
                         absl::Nanoseconds(ns), code);
    }
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace

LoadResult RunOpenLoop(affinity::v1::Recommender::Stub& stub,
                       RequestGenerator& generator, const LoadOptions& options) {
  LoadResult result;
  grpc::CompletionQueue queue;
  std::atomic<int64_t> in_flight{0};
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(5);
  const absl::Time wall_start = absl::Now() + absl::Milliseconds(5);
  Clock::time_point last_completion = start;
  Clock::time_point last_send = start;
  std::thread receiver(Receive, std::ref(queue), std::ref(in_flight), std::cref(options),
                       std::ref(result), start, wall_start, std::ref(last_completion));

  const auto window = absl::ToChronoNanoseconds(options.duration);
  const double period_ns = 1e9 / options.qps;
  const auto deadline = absl::ToChronoNanoseconds(options.deadline);
  for (int64_t i = 0; i < options.max_requests; ++i) {
    const auto offset = std::chrono::nanoseconds(
        static_cast<int64_t>(std::llround(static_cast<double>(i) * period_ns)));
    if (offset >= window) break;
    const Clock::time_point due = start + offset;
    ++result.due;
    // Drawn whether sent or skipped: request i is the same in every run.
    affinity::v1::RecommendRequest recommend;
    affinity::v1::SimilarItemsRequest similar;
    if (generator.method() == Method::kRecommend) {
      recommend = generator.NextRecommend();
    } else {
      similar = generator.NextSimilar();
    }
    std::this_thread::sleep_until(due);
    if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
      --result.due;
      break;
    }
    const int64_t outstanding = in_flight.load(std::memory_order_acquire);
    if (outstanding >= options.max_in_flight) {
      ++result.skipped_in_flight;
      continue;
    }
    auto call = std::make_unique<Call>();
    call->index = i;
    call->due = due;
    call->context.set_deadline(std::chrono::system_clock::now() + deadline);
    if (generator.method() == Method::kRecommend) {
      call->reader = stub.AsyncRecommend(&call->context, recommend, &queue);
    } else {
      call->reader = stub.AsyncSimilarItems(&call->context, similar, &queue);
    }
    result.max_in_flight_seen =
        std::max(result.max_in_flight_seen,
                 in_flight.fetch_add(1, std::memory_order_acq_rel) + 1);
    Call* raw = call.release();
    raw->reader->Finish(&raw->response, &raw->status, raw);
    ++result.sent;
    last_send = Clock::now();
  }

  // Every call has a deadline, so the outstanding ones finish.
  while (in_flight.load(std::memory_order_acquire) > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  queue.Shutdown();
  receiver.join();

  // A run lasts at least its schedule: `due` requests at `qps`.
  const absl::Duration schedule =
      absl::Seconds(static_cast<double>(result.due) / options.qps);
  result.send_window = std::max(absl::FromChrono(last_send - start), schedule);
  result.elapsed = std::max(
      absl::FromChrono(std::max(last_completion, last_send) - start), schedule);
  return result;
}

}  // namespace affinity::loadgen
