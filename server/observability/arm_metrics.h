// ArmMetrics: what each A/B arm serves and what users do with it, for
// Prometheus and the rollout dashboard (tools/grafana/). Keyed by (arm,
// model version, forced) so that a version change or QA traffic never mixes
// into another series. Thread-safe: series are created under a mutex on
// first use, then updated with atomics.
//
// Exported (text format 0.0.4):
//   affinity_arm_requests_total{arm,version,forced,code}
//   affinity_arm_request_duration_seconds{arm,version,forced}   histogram
//   affinity_arm_fallbacks_total{arm,version,forced}
//   affinity_arm_empty_answers_total{arm,version,forced}
//   affinity_arm_outcomes_total{arm,version,forced,event}
//   affinity_rollout_arm_basis_points{arm,version}               gauge
//   affinity_rollout_revision                                    gauge
//   affinity_shadow_requests_total{version}
//   affinity_shadow_dropped_total{version}
//   affinity_shadow_failures_total{version}
//   affinity_shadow_duration_seconds{version}                    histogram
//   affinity_shadow_overlap_at_k{version}                         histogram
#ifndef AFFINITY_SERVER_OBSERVABILITY_ARM_METRICS_H_
#define AFFINITY_SERVER_OBSERVABILITY_ARM_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "server/observability/metrics.h"

namespace affinity::server {

class ArmMetrics {
 public:
  // event: 1 impression, 2 click, 3 conversion (affinity.v1.EventType).
  static constexpr int kEvents = 4;

  void RecordRequest(const std::string& arm, uint64_t version, bool forced, int code,
                     double seconds, bool fallback, bool empty);
  void AddOutcomes(const std::string& arm, uint64_t version, bool forced, int event,
                   uint64_t count);
  // The configured shares of the serving table (replaces the previous).
  void SetRollout(uint64_t revision, const std::vector<std::tuple<std::string, uint64_t, int32_t>>&
                                         arms_versions_basis_points);
  void RecordShadow(uint64_t version, double seconds, double overlap);
  void AddShadowDropped(uint64_t version);
  // The shadow version could not answer a sampled request.
  void AddShadowFailed(uint64_t version);

  uint64_t requests(const std::string& arm, uint64_t version, bool forced) const;
  uint64_t outcomes(const std::string& arm, uint64_t version, bool forced, int event) const;
  uint64_t shadow_requests(uint64_t version) const;
  uint64_t shadow_dropped(uint64_t version) const;

  std::string Render() const;

 private:
  struct Series {
    Series();
    std::array<std::atomic<uint64_t>, ServerMetrics::kStatusCodes> codes{};
    Histogram latency;
    std::atomic<uint64_t> fallbacks{0};
    std::atomic<uint64_t> empty{0};
    std::array<std::atomic<uint64_t>, kEvents> outcomes{};
  };
  struct Shadow {
    Shadow();
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> dropped{0};
    std::atomic<uint64_t> failed{0};
    Histogram latency;
    Histogram overlap;
  };
  using Key = std::tuple<std::string, uint64_t, bool>;
  Series& Get(const std::string& arm, uint64_t version, bool forced);
  Shadow& GetShadow(uint64_t version);

  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<Series>> series_;          // guarded by mu_
  std::map<uint64_t, std::unique_ptr<Shadow>> shadows_;    // guarded by mu_
  uint64_t revision_ = 0;                                  // guarded by mu_
  std::vector<std::tuple<std::string, uint64_t, int32_t>> shares_;  // guarded by mu_
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_OBSERVABILITY_ARM_METRICS_H_
