#include "server/rollout/outcome_recorder.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/rpc/request_id.h"

namespace affinity::server {

absl::StatusOr<affinity::v1::ReportOutcomeResponse> OutcomeRecorder::Record(
    const affinity::v1::ReportOutcomeRequest& request) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  std::vector<affinity::v1::Outcome> events;
  events.reserve(request.outcomes_size());
  for (int i = 0; i < request.outcomes_size(); ++i) {
    const affinity::v1::OutcomeReport& report = request.outcomes(i);
    affinity::v1::Outcome event;
    event.set_request_id(report.request_id());
    event.set_user_id(report.user_id());
    event.set_session_id(report.session_id());
    event.set_item_id(report.item_id());
    event.set_event(report.event());
    event.set_at_unix_micros(report.at_unix_micros() > 0 ? report.at_unix_micros() : now);
    if (!report.request_id().empty()) {
      absl::StatusOr<RequestIdParts> parts = ParseRequestId(report.request_id());
      if (!parts.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("outcomes[", i, "].", parts.status().message()));
      }
      event.set_arm(parts->arm);
      event.set_model_version(parts->model_version);
      event.set_forced_arm(parts->forced);
    } else {
      event.set_arm(report.arm());
      event.set_model_version(report.model_version());
    }
    events.push_back(std::move(event));
  }
  std::vector<bool> stored;
  absl::StatusOr<int64_t> added = store_->Append(events, &stored);
  if (!added.ok()) return added.status();
  // Retried reports (already stored) are not counted again.
  for (size_t i = 0; i < events.size(); ++i) {
    if (!stored[i]) continue;
    const affinity::v1::Outcome& e = events[i];
    metrics_->AddOutcomes(e.arm(), e.model_version(), e.forced_arm(), e.event(), 1);
  }
  affinity::v1::ReportOutcomeResponse response;
  response.set_accepted(static_cast<int32_t>(*added));
  response.set_duplicates(static_cast<int32_t>(events.size() - *added));
  return response;
}

void OutcomeRecorder::CountRequest(const std::string& arm, uint64_t version, bool forced) {
  std::lock_guard<std::mutex> lock(mu_);
  ++pending_[std::make_tuple(arm, version, forced)];
}

absl::Status OutcomeRecorder::Flush() {
  std::map<std::tuple<std::string, uint64_t, bool>, uint64_t> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
  }
  for (auto it = batch.begin(); it != batch.end(); ++it) {
    const auto& [arm, version, forced] = it->first;
    absl::Status s = store_->AddRequests(arm, version, forced, it->second);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (; it != batch.end(); ++it) pending_[it->first] += it->second;
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace affinity::server
