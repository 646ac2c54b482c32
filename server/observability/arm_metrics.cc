#include "server/observability/arm_metrics.h"

#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

constexpr const char* kEventNames[ArmMetrics::kEvents] = {"unspecified", "impression",
                                                           "click", "conversion"};

std::vector<double> LatencyBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> OverlapBounds() { return {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}; }

void Header(absl::string_view name, absl::string_view type, absl::string_view help,
            std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

std::string Labels(const std::string& arm, uint64_t version, bool forced) {
  return absl::StrCat("arm=\"", arm, "\",version=\"", version, "\",forced=\"",
                      forced ? "true" : "false", "\"");
}

}  // namespace

ArmMetrics::Series::Series() : latency(LatencyBounds()) {
  for (auto& c : codes) c = 0;
  for (auto& o : outcomes) o = 0;
}

ArmMetrics::Shadow::Shadow() : latency(LatencyBounds()), overlap(OverlapBounds()) {}

ArmMetrics::Series& ArmMetrics::Get(const std::string& arm, uint64_t version, bool forced) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Series>& s = series_[Key(arm, version, forced)];
  if (s == nullptr) s = std::make_unique<Series>();
  return *s;
}

ArmMetrics::Shadow& ArmMetrics::GetShadow(uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Shadow>& s = shadows_[version];
  if (s == nullptr) s = std::make_unique<Shadow>();
  return *s;
}

void ArmMetrics::RecordRequest(const std::string& arm, uint64_t version, bool forced, int code,
                               double seconds, bool fallback, bool empty) {
  Series& s = Get(arm, version, forced);
  if (code < 0 || code >= ServerMetrics::kStatusCodes) code = 2;
  s.codes[code].fetch_add(1, std::memory_order_relaxed);
  s.latency.Observe(seconds);
  if (fallback) s.fallbacks.fetch_add(1, std::memory_order_relaxed);
  if (empty) s.empty.fetch_add(1, std::memory_order_relaxed);
}

void ArmMetrics::AddOutcomes(const std::string& arm, uint64_t version, bool forced, int event,
                             uint64_t count) {
  if (event <= 0 || event >= kEvents) return;
  Get(arm, version, forced).outcomes[event].fetch_add(count, std::memory_order_relaxed);
}

void ArmMetrics::SetRollout(
    uint64_t revision, const std::vector<std::tuple<std::string, uint64_t, int32_t>>& shares) {
  std::lock_guard<std::mutex> lock(mu_);
  revision_ = revision;
  shares_ = shares;
}

void ArmMetrics::RecordShadow(uint64_t version, double seconds, double overlap) {
  Shadow& s = GetShadow(version);
  s.requests.fetch_add(1, std::memory_order_relaxed);
  s.latency.Observe(seconds);
  s.overlap.Observe(overlap);
}

void ArmMetrics::AddShadowDropped(uint64_t version) {
  GetShadow(version).dropped.fetch_add(1, std::memory_order_relaxed);
}

void ArmMetrics::AddShadowFailed(uint64_t version) {
  GetShadow(version).failed.fetch_add(1, std::memory_order_relaxed);
}

uint64_t ArmMetrics::requests(const std::string& arm, uint64_t version, bool forced) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(Key(arm, version, forced));
  if (it == series_.end()) return 0;
  uint64_t total = 0;
  for (const auto& c : it->second->codes) total += c.load();
  return total;
}

uint64_t ArmMetrics::outcomes(const std::string& arm, uint64_t version, bool forced,
                              int event) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(Key(arm, version, forced));
  if (it == series_.end() || event <= 0 || event >= kEvents) return 0;
  return it->second->outcomes[event].load();
}

uint64_t ArmMetrics::shadow_requests(uint64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shadows_.find(version);
  return it == shadows_.end() ? 0 : it->second->requests.load();
}

uint64_t ArmMetrics::shadow_dropped(uint64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shadows_.find(version);
  return it == shadows_.end() ? 0 : it->second->dropped.load();
}

std::string ArmMetrics::Render() const {
  static constexpr const char* kCodeNames[ServerMetrics::kStatusCodes] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  Header("affinity_arm_requests_total", "counter",
         "Recommend requests by A/B arm, model version, forced arm and status code.", &out);
  for (const auto& [key, s] : series_) {
    const std::string labels = Labels(std::get<0>(key), std::get<1>(key), std::get<2>(key));
    for (int c = 0; c < ServerMetrics::kStatusCodes; ++c) {
      const uint64_t n = s->codes[c].load(std::memory_order_relaxed);
      if (n == 0 && c != 0) continue;
      absl::StrAppend(&out, "affinity_arm_requests_total{", labels, ",code=\"", kCodeNames[c],
                      "\"} ", n, "\n");
    }
  }
  Header("affinity_arm_request_duration_seconds", "histogram",
         "Recommend handling time by A/B arm and model version, in seconds.", &out);
  for (const auto& [key, s] : series_) {
    s->latency.Render("affinity_arm_request_duration_seconds",
                      Labels(std::get<0>(key), std::get<1>(key), std::get<2>(key)), &out);
  }
  Header("affinity_arm_fallbacks_total", "counter",
         "Answers (partly) from the most-popular fallback, by A/B arm.", &out);
  for (const auto& [key, s] : series_) {
    absl::StrAppend(&out, "affinity_arm_fallbacks_total{",
                    Labels(std::get<0>(key), std::get<1>(key), std::get<2>(key)), "} ",
                    s->fallbacks.load(), "\n");
  }
  Header("affinity_arm_empty_answers_total", "counter",
         "Successful answers without any item, by A/B arm.", &out);
  for (const auto& [key, s] : series_) {
    absl::StrAppend(&out, "affinity_arm_empty_answers_total{",
                    Labels(std::get<0>(key), std::get<1>(key), std::get<2>(key)), "} ",
                    s->empty.load(), "\n");
  }
  Header("affinity_arm_outcomes_total", "counter",
         "Outcomes reported through ReportOutcome, by A/B arm, model version and event.", &out);
  for (const auto& [key, s] : series_) {
    for (int e = 1; e < kEvents; ++e) {
      absl::StrAppend(&out, "affinity_arm_outcomes_total{",
                      Labels(std::get<0>(key), std::get<1>(key), std::get<2>(key)),
                      ",event=\"", kEventNames[e], "\"} ", s->outcomes[e].load(), "\n");
    }
  }
  Header("affinity_rollout_arm_basis_points", "gauge",
         "Configured traffic share of each serving arm, in basis points of 10000.", &out);
  for (const auto& [arm, version, bp] : shares_) {
    absl::StrAppend(&out, "affinity_rollout_arm_basis_points{arm=\"", arm, "\",version=\"",
                    version, "\"} ", bp, "\n");
  }
  Header("affinity_rollout_revision", "gauge", "Revision of the rollout state being served.",
         &out);
  absl::StrAppend(&out, "affinity_rollout_revision ", revision_, "\n");
  Header("affinity_shadow_requests_total", "counter",
         "Requests scored again by the shadow version, off the latency path.", &out);
  for (const auto& [version, s] : shadows_) {
    absl::StrAppend(&out, "affinity_shadow_requests_total{version=\"", version, "\"} ",
                    s->requests.load(), "\n");
  }
  Header("affinity_shadow_dropped_total", "counter",
         "Sampled shadow requests dropped because the shadow queue was full.", &out);
  for (const auto& [version, s] : shadows_) {
    absl::StrAppend(&out, "affinity_shadow_dropped_total{version=\"", version, "\"} ",
                    s->dropped.load(), "\n");
  }
  Header("affinity_shadow_failures_total", "counter",
         "Sampled shadow requests the shadow version could not answer.", &out);
  for (const auto& [version, s] : shadows_) {
    absl::StrAppend(&out, "affinity_shadow_failures_total{version=\"", version, "\"} ",
                    s->failed.load(), "\n");
  }
  Header("affinity_shadow_duration_seconds", "histogram",
         "Time the shadow version took to score a request, in seconds.", &out);
  for (const auto& [version, s] : shadows_) {
    s->latency.Render("affinity_shadow_duration_seconds",
                      absl::StrCat("version=\"", version, "\""), &out);
  }
  Header("affinity_shadow_overlap_at_k", "histogram",
         "Share of the served items that the shadow version also returned (overlap@k).", &out);
  for (const auto& [version, s] : shadows_) {
    s->overlap.Render("affinity_shadow_overlap_at_k", absl::StrCat("version=\"", version, "\""),
                      &out);
  }
  return out;
}

}  // namespace affinity::server
