// ServerMetrics: the server's counters and histograms, updated lock-free on
// the request path (atomics) and rendered in the Prometheus text exposition
// format (version 0.0.4) for /metrics.
#ifndef AFFINITY_SERVER_OBSERVABILITY_METRICS_H_
#define AFFINITY_SERVER_OBSERVABILITY_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace affinity::server {

// Cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends name_bucket/_sum/_count lines; `labels` is `k="v",...` or "".
  void Render(absl::string_view name, absl::string_view labels, std::string* out) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class ServerMetrics {
 public:
  // gRPC methods that are counted; others are ignored.
  enum Method { kRecommend = 0, kSimilarItems = 1, kMethodCount = 2 };
  // Stages of answering Recommend and SimilarItems, timed per request (see
  // server/README.md, Metrics, for what each covers). kRerank is the exact
  // re-ranking of a compact scan's candidates (--scorer=int8; other
  // scorers leave its series at 0).
  enum Stage {
    kUserLookup = 0,
    kFoldIn,
    kQueue,
    kScan,
    kRerank,
    kRules,
    kSerialize,
    kStageCount
  };
  static constexpr int kStatusCodes = 17;  // gRPC codes 0..16

  ServerMetrics();

  // code is a gRPC status code number (0 = OK).
  void RecordRequest(Method method, int code, double seconds);
  void AddFallback() { fallbacks_.fetch_add(1, std::memory_order_relaxed); }
  void AddItemsScored(uint64_t n) { items_scored_.fetch_add(n, std::memory_order_relaxed); }
  void AddUnknownRecentItems(uint64_t n) {
    unknown_recent_items_.fetch_add(n, std::memory_order_relaxed);
  }
  void AddFoldIn() { fold_ins_.fetch_add(1, std::memory_order_relaxed); }
  // Returns the count including this one (callers log the 1st, 2nd, 4th, ...).
  uint64_t AddFoldInFailure() {
    return fold_in_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // A call refused with RESOURCE_EXHAUSTED because every request thread was
  // busy (it never reached the service, so RecordRequest does not see it).
  void AddShed() { shed_.fetch_add(1, std::memory_order_relaxed); }
  void RecordStage(Stage stage, double seconds);
  // One scoring pass: the queries it scored together and how long it took.
  void RecordPass(size_t queries, double seconds);
  void RecordModelLoad(uint64_t version, double seconds);
  void AddModelLoadFailure() { model_load_failures_.fetch_add(1, std::memory_order_relaxed); }
  // Replaces the set of loaded versions (arm name -> version).
  void SetLoadedModels(const std::map<std::string, uint64_t>& arms);

  uint64_t requests(Method method, int code) const;
  uint64_t fallbacks() const { return fallbacks_.load(); }
  uint64_t unknown_recent_items() const { return unknown_recent_items_.load(); }
  uint64_t shed() const { return shed_.load(); }
  uint64_t stage_count(Stage stage) const;
  uint64_t passes() const { return batch_size_->count(); }

  // Prometheus text format.
  std::string Render() const;

 private:
  std::array<std::array<std::atomic<uint64_t>, kStatusCodes>, kMethodCount> requests_{};
  std::vector<std::unique_ptr<Histogram>> latency_;  // per method
  std::vector<std::unique_ptr<Histogram>> stages_;   // per stage
  std::unique_ptr<Histogram> batch_size_;
  std::unique_ptr<Histogram> pass_seconds_;
  std::atomic<uint64_t> fallbacks_{0};
  std::atomic<uint64_t> items_scored_{0};
  std::atomic<uint64_t> unknown_recent_items_{0};
  std::atomic<uint64_t> fold_ins_{0};
  std::atomic<uint64_t> fold_in_failures_{0};
  std::atomic<uint64_t> shed_{0};
  std::atomic<uint64_t> model_loads_{0};
  std::atomic<uint64_t> model_load_failures_{0};
  mutable std::mutex models_mu_;
  std::map<std::string, uint64_t> loaded_;        // arm -> version
  std::map<uint64_t, double> load_seconds_;        // version -> seconds
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_OBSERVABILITY_METRICS_H_
