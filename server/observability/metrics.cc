#include "server/observability/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity::server {
namespace {

constexpr const char* kMethodNames[] = {"Recommend", "SimilarItems"};

constexpr const char* kStageNames[ServerMetrics::kStageCount] = {
    "user_lookup", "fold_in", "queue", "scan", "rerank", "rules", "serialize",
};

constexpr const char* kCodeNames[ServerMetrics::kStatusCodes] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

std::string FormatDouble(double v) { return absl::StrFormat("%.17g", v); }

void AddAtomic(std::atomic<double>* target, double delta) {
  double current = target->load(std::memory_order_relaxed);
  while (!target->compare_exchange_weak(current, current + delta,
                                        std::memory_order_relaxed)) {
  }
}

void Header(absl::string_view name, absl::string_view type, absl::string_view help,
            std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AddAtomic(&sum_, value);
}

void Histogram::Render(absl::string_view name, absl::string_view labels,
                       std::string* out) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? absl::StrCat(bounds_[i]) : "+Inf";
    absl::StrAppend(out, name, "_bucket{", labels, sep, "le=\"", le, "\"} ", cumulative,
                    "\n");
  }
  const std::string braced = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(out, name, "_sum", braced, " ",
                  FormatDouble(sum_.load(std::memory_order_relaxed)), "\n");
  absl::StrAppend(out, name, "_count", braced, " ", cumulative, "\n");
}

ServerMetrics::ServerMetrics() {
  for (auto& per_method : requests_) {
    for (auto& counter : per_method) counter = 0;
  }
  const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                      1,      2.5,     5,      10};
  for (int m = 0; m < kMethodCount; ++m) latency_.push_back(std::make_unique<Histogram>(bounds));
  // Stages run from microseconds (a lookup) up: finer buckets at the bottom.
  std::vector<double> stage_bounds = {0.00001, 0.000025, 0.00005};
  stage_bounds.insert(stage_bounds.end(), bounds.begin(), bounds.end());
  for (int s = 0; s < kStageCount; ++s) {
    stages_.push_back(std::make_unique<Histogram>(stage_bounds));
  }
  batch_size_ = std::make_unique<Histogram>(
      std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  pass_seconds_ = std::make_unique<Histogram>(stage_bounds);
}

void ServerMetrics::RecordStage(Stage stage, double seconds) {
  if (stage < 0 || stage >= kStageCount) return;
  stages_[stage]->Observe(seconds);
}

uint64_t ServerMetrics::stage_count(Stage stage) const {
  if (stage < 0 || stage >= kStageCount) return 0;
  return stages_[stage]->count();
}

void ServerMetrics::RecordPass(size_t queries, double seconds) {
  batch_size_->Observe(static_cast<double>(queries));
  pass_seconds_->Observe(seconds);
}

void ServerMetrics::RecordRequest(Method method, int code, double seconds) {
  if (method < 0 || method >= kMethodCount) return;
  if (code < 0 || code >= kStatusCodes) code = 2;  // UNKNOWN
  requests_[method][code].fetch_add(1, std::memory_order_relaxed);
  latency_[method]->Observe(seconds);
}

uint64_t ServerMetrics::requests(Method method, int code) const {
  if (method < 0 || method >= kMethodCount || code < 0 || code >= kStatusCodes) return 0;
  return requests_[method][code].load();
}

void ServerMetrics::RecordModelLoad(uint64_t version, double seconds) {
  model_loads_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(models_mu_);
  load_seconds_[version] = seconds;
}

void ServerMetrics::SetLoadedModels(const std::map<std::string, uint64_t>& arms) {
  std::lock_guard<std::mutex> lock(models_mu_);
  loaded_ = arms;
  // Keep load times only for versions still loaded.
  for (auto it = load_seconds_.begin(); it != load_seconds_.end();) {
    bool live = false;
    for (const auto& [arm, version] : loaded_) live = live || version == it->first;
    it = live ? std::next(it) : load_seconds_.erase(it);
  }
}

std::string ServerMetrics::Render() const {
  std::string out;
  Header("affinity_requests_total", "counter", "gRPC requests by method and status code.",
         &out);
  for (int m = 0; m < kMethodCount; ++m) {
    for (int c = 0; c < kStatusCodes; ++c) {
      const uint64_t n = requests_[m][c].load(std::memory_order_relaxed);
      if (n == 0 && c != 0) continue;
      absl::StrAppend(&out, "affinity_requests_total{method=\"", kMethodNames[m],
                      "\",code=\"", kCodeNames[c], "\"} ", n, "\n");
    }
  }
  Header("affinity_request_latency_seconds", "histogram",
         "Request handling time by method, in seconds.", &out);
  for (int m = 0; m < kMethodCount; ++m) {
    latency_[m]->Render("affinity_request_latency_seconds",
                        absl::StrCat("method=\"", kMethodNames[m], "\""), &out);
  }
  Header("affinity_stage_latency_seconds", "histogram",
         "Time spent in each stage of answering Recommend and SimilarItems, per request, in "
         "seconds.",
         &out);
  for (int s = 0; s < kStageCount; ++s) {
    stages_[s]->Render("affinity_stage_latency_seconds",
                       absl::StrCat("stage=\"", kStageNames[s], "\""), &out);
  }
  Header("affinity_scoring_batch_size", "histogram",
         "Queries scored together per pass over the item matrix.", &out);
  batch_size_->Render("affinity_scoring_batch_size", "", &out);
  Header("affinity_scoring_pass_seconds", "histogram",
         "Duration of each pass over the item matrix, in seconds.", &out);
  pass_seconds_->Render("affinity_scoring_pass_seconds", "", &out);
  Header("affinity_requests_shed_total", "counter",
         "Calls refused with RESOURCE_EXHAUSTED because every request thread was busy "
         "(--threads); not in affinity_requests_total.",
         &out);
  absl::StrAppend(&out, "affinity_requests_shed_total ", shed_.load(), "\n");
  Header("affinity_fallback_total", "counter",
         "Responses answered (wholly or partly) by the most-popular fallback.", &out);
  absl::StrAppend(&out, "affinity_fallback_total ", fallbacks_.load(), "\n");
  Header("affinity_items_scored_total", "counter",
         "Item vectors scored (exact: the whole catalog per query; hnsw: the search's "
         "candidate list).",
         &out);
  absl::StrAppend(&out, "affinity_items_scored_total ", items_scored_.load(), "\n");
  Header("affinity_unknown_recent_items_total", "counter",
         "Items in requests' `recent` that the model does not know (ignored).", &out);
  absl::StrAppend(&out, "affinity_unknown_recent_items_total ",
                  unknown_recent_items_.load(), "\n");
  Header("affinity_fold_ins_total", "counter",
         "User vectors computed at request time from interactions.", &out);
  absl::StrAppend(&out, "affinity_fold_ins_total ", fold_ins_.load(), "\n");
  Header("affinity_fold_in_failures_total", "counter",
         "Requests whose fold-in failed (normal equations not positive definite), answered "
         "with the stored user vector or the most-popular fallback.",
         &out);
  absl::StrAppend(&out, "affinity_fold_in_failures_total ", fold_in_failures_.load(), "\n");
  Header("affinity_model_loads_total", "counter", "Model versions loaded.", &out);
  absl::StrAppend(&out, "affinity_model_loads_total ", model_loads_.load(), "\n");
  Header("affinity_model_load_failures_total", "counter",
         "Attempts to load a model version that failed.", &out);
  absl::StrAppend(&out, "affinity_model_load_failures_total ",
                  model_load_failures_.load(), "\n");
  std::lock_guard<std::mutex> lock(models_mu_);
  Header("affinity_model_loaded", "gauge",
         "1 for every model version currently serving, by A/B arm.", &out);
  for (const auto& [arm, version] : loaded_) {
    absl::StrAppend(&out, "affinity_model_loaded{arm=\"", arm, "\",version=\"", version,
                    "\"} 1\n");
  }
  Header("affinity_model_load_seconds", "gauge",
         "Time taken to load each loaded model version, in seconds.", &out);
  for (const auto& [version, seconds] : load_seconds_) {
    absl::StrAppend(&out, "affinity_model_load_seconds{version=\"", version, "\"} ",
                    FormatDouble(seconds), "\n");
  }
  return out;
}

}  // namespace affinity::server
