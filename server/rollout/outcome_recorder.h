// OutcomeRecorder: the server side of ReportOutcome and of the per-arm
// request counts behind `affinity rollout status`. An outcome names its
// answer's request_id (server/rpc/request_id.h carries arm, version and
// whether the arm was forced) or gives user_id, arm and model_version
// itself; it is appended durably to this server's events store
// (storage/event_store.h: acknowledged = synced) and counted in ArmMetrics
// once (a retried outcome, already stored, is not counted again).
// Requests are counted in memory per (arm, version, forced) and flushed to
// the events store by Flush (the server calls it about once a second).
// Thread-safe.
#ifndef AFFINITY_SERVER_ROLLOUT_OUTCOME_RECORDER_H_
#define AFFINITY_SERVER_ROLLOUT_OUTCOME_RECORDER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "affinity/v1/recommender.pb.h"
#include "server/observability/arm_metrics.h"
#include "storage/event_store.h"

namespace affinity::server {

class OutcomeRecorder {
 public:
  // Both must outlive the recorder.
  OutcomeRecorder(storage::EventStore* store, ArmMetrics* metrics)
      : store_(store), metrics_(metrics) {}

  // `request` must have passed ValidateOutcomeRequest. InvalidArgument
  // names an outcome whose request_id was not made by this service;
  // nothing is stored unless every outcome is valid. Returns how many were
  // new and how many were already stored (retries).
  absl::StatusOr<affinity::v1::ReportOutcomeResponse> Record(
      const affinity::v1::ReportOutcomeRequest& request);

  void CountRequest(const std::string& arm, uint64_t version, bool forced);
  // Writes the requests counted since the last flush; on failure they are
  // kept for the next one.
  absl::Status Flush();

 private:
  storage::EventStore* store_;
  ArmMetrics* metrics_;
  std::mutex mu_;
  std::map<std::tuple<std::string, uint64_t, bool>, uint64_t> pending_;  // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_ROLLOUT_OUTCOME_RECORDER_H_
