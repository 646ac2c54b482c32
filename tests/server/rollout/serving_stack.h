// An in-process affinity-server composed as server/main.cc composes it:
// ModelManager over a follower of the store (rules warm-up, routing
// listener feeding ArmMetrics and the rule engine's retained versions),
// the rule engine with no rules over DIR/catalog, the events store
// (DIR/events/<instance>) with an OutcomeRecorder, a ShadowRunner, and
// RecommenderService with arm metrics, outcomes and shadow set (its
// MicroBatcher's window and size are --batch_window_us and --max_batch, 0
// and 32 unless set; its passes and the response-sending time are counted
// in metrics() as the binary counts them), behind
// Utf8CheckedRecommender, on a gRPC server bound to a free loopback port.
// Without a poll period the test drives the manager with models().Poll();
// with one, it polls like the binary. Calls refused for want of a request
// thread (options.threads) are counted in metrics() as the binary counts
// them. Request counts reach the events store at outcomes()->Flush() and
// at Stop() (the binary also flushes every second). Stop() (and the
// destructor) shut down in main.cc's order: polling, gRPC drain, shadow
// runner, final outcome flush.
// Not thread-safe to start or stop; serving is as thread-safe as the server.
#ifndef AFFINITY_TESTS_SERVER_ROLLOUT_SERVING_STACK_H_
#define AFFINITY_TESTS_SERVER_ROLLOUT_SERVING_STACK_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "server/lifecycle/model_manager.h"
#include "server/observability/arm_metrics.h"
#include "server/observability/metrics.h"
#include "server/rollout/outcome_recorder.h"
#include "server/rollout/shadow_runner.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/recommender_service.h"
#include "server/rpc/request_validation.h"
#include "server/rpc/utf8_checked_service.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/scoring/micro_batcher.h"
#include "storage/event_store.h"

namespace affinity::server::testing {

struct ServingStackOptions {
  // Events directory name (--instance); empty: no events store (--noevents).
  std::string instance = "test";
  size_t shadow_queue = 64;            // --shadow_queue
  std::chrono::milliseconds poll{0};   // --poll_ms; 0: the test calls Poll()
  int threads = 0;                     // --threads (0: unbounded)
  std::chrono::microseconds batch_window{0};  // --batch_window_us
  size_t max_batch = 32;                      // --max_batch
  ScorerOptions scorer;                // --scorer, --hnsw_ef
};

class ServingStack {
 public:
  static absl::StatusOr<std::unique_ptr<ServingStack>> Start(const std::string& db,
                                                             const ServingStackOptions& options);
  ~ServingStack();
  void Stop();

  ModelManager& models() { return *models_; }
  ServerMetrics& metrics() { return metrics_; }
  ArmMetrics& arm_metrics() { return arm_metrics_; }
  rollout::ShadowRunner& shadow() { return *shadow_; }
  OutcomeRecorder* outcomes() { return outcomes_.get(); }
  affinity::v1::Recommender::Stub& stub() { return *stub_; }
  int port() const { return grpc_->port(); }
  // What /metrics serves: server, arm and rule metrics.
  std::string RenderMetrics() const;

  // Recommend with a 10 s deadline.
  grpc::Status Recommend(const affinity::v1::RecommendRequest& request,
                         affinity::v1::RecommendResponse* response);
  grpc::Status ReportOutcome(const affinity::v1::ReportOutcomeRequest& request,
                             affinity::v1::ReportOutcomeResponse* response);

 private:
  ServingStack() = default;

  ServerMetrics metrics_;
  ArmMetrics arm_metrics_;
  rules::RuleMetrics rule_metrics_;
  std::unique_ptr<rules::CatalogView> catalog_;
  std::unique_ptr<rules::RuleEngine> rule_engine_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<storage::EventStore> events_;
  std::unique_ptr<OutcomeRecorder> outcomes_;
  std::unique_ptr<rollout::ShadowRunner> shadow_;
  std::unique_ptr<MicroBatcher> batcher_;
  RuleSetRegistry rule_sets_;
  std::unique_ptr<RecommenderService> service_;
  std::unique_ptr<Utf8CheckedService> checked_service_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
  bool stopped_ = false;
};

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_ROLLOUT_SERVING_STACK_H_
