// Sends requests on a fixed schedule, whatever the server's answers, and
// measures each request's latency from its scheduled send time (so a slow
// server is not hidden by a client that waited before sending:
// no coordinated omission).
//
// Contract:
//  - Request i is due at start + i/qps; requests are due while inside
//    `duration` and i < max_requests. A request is sent when due, or at once
//    when the sender is late; it is skipped (counted, never sent) when
//    max_in_flight requests are already outstanding.
//  - Every sent request carries a deadline of `deadline` from its send, and
//    Run returns only once every sent request has completed.
//  - Request i is always the generator's i-th request, sent or skipped, so
//    two runs with the same generator seed send the same request under the
//    same index (answers can be compared across servers, see on_answer).
//  - Latency = completion time - due time, for every completed request
//    (`latency_all`), for OK ones (`latency_ok`) and for the others
//    (`latency_failed`: how fast a server refuses or times out).
//  - OK answers are classified by the response's fallback fields: with
//    `fallback` set (some items from the most-popular fallback), and among
//    them those whose every item is `from_fallback` (the model scored
//    nothing: an unknown user without recent interactions).
#ifndef AFFINITY_TOOLS_LOADGEN_OPEN_LOOP_RUNNER_H_
#define AFFINITY_TOOLS_LOADGEN_OPEN_LOOP_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "grpcpp/support/status.h"
#include "tools/loadgen/latency_histogram.h"
#include "tools/loadgen/request_generator.h"

namespace affinity::loadgen {

struct LoadOptions {
  double qps = 1000;
  absl::Duration duration = absl::Seconds(10);
  int64_t max_requests = 1000000;
  absl::Duration deadline = absl::Seconds(1);
  int64_t max_in_flight = 10000;
  // Called for every completed request (index i as above) on the thread
  // that receives the answers, one call at a time (may be empty).
  std::function<void(int64_t index, const grpc::Status& status,
                     const affinity::v1::RecommendResponse& response)>
      on_answer;
  // Ends the schedule early when it becomes true (may be null).
  const std::atomic<bool>* stop = nullptr;
  // Called for every completed request like on_answer (may be empty).
  std::function<void(int64_t index, absl::Time due, absl::Duration latency,
                     grpc::StatusCode code)>
      on_latency;
};

struct LoadResult {
  int64_t due = 0;
  int64_t sent = 0;
  int64_t skipped_in_flight = 0;
  int64_t completed = 0;
  std::map<grpc::StatusCode, int64_t> by_code;
  // OK answers with `fallback` set, and those wholly from the fallback.
  int64_t fallback_answers = 0;
  int64_t fallback_only_answers = 0;
  // First error message seen per failing code.
  std::map<grpc::StatusCode, std::string> first_error;
  LatencyHistogram latency_all;
  LatencyHistogram latency_ok;
  LatencyHistogram latency_failed;
  // From the first due time to the last send / the last completion, and at
  // least the schedule's length (due / qps).
  absl::Duration send_window;
  absl::Duration elapsed;
  int64_t max_in_flight_seen = 0;
};

LoadResult RunOpenLoop(affinity::v1::Recommender::Stub& stub,
                       RequestGenerator& generator, const LoadOptions& options);

}  // namespace affinity::loadgen

#endif  // AFFINITY_TOOLS_LOADGEN_OPEN_LOOP_RUNNER_H_
