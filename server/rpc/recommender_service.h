// RecommenderService: the affinity.v1.Recommender gRPC service.
//
// Recommend:
//  - known user, no `recent`: score = <x_u, y_i> with the stored vector;
//  - `recent` given (implicit models): the user vector is folded in on the
//    spot from the request's interactions plus, for a known user, the stored
//    history (each seen item with raw weight 1: the store keeps seen item
//    indices, not weights); a fold-in that fails (normal equations not
//    positive definite) is counted and logged (ServerMetrics), and the
//    request is scored with the stored vector (unknown user: the fallback);
//  - explicit models ignore `recent` for scoring (their vectors carry bias
//    terms the implicit normal equations do not model): a known user is
//    scored with the stored vector, an unknown one gets the fallback;
//  - unknown user and nothing to fold in: the most-popular fallback
//    (response.fallback = true, every item from_fallback).
//  Seen items, `recent` items and exclude_item_ids are never returned and
//  the answer holds k items whenever the catalog has that many others.
// SimilarItems: cosine of item vectors; the item itself is never returned.
// Both always run the business-rule pipeline of the request's rule set
// (server/rules/rule_pipeline.h) over the catalog: a server without a rules
// file has an empty rule set, and without catalog items an empty catalog,
// on the same path.
//
// A/B arms: Recommend routes each request by its user id (else its
// session id; neither: control) to an arm of the rollout (ModelManager,
// server/lifecycle/routing_table.h), or to the arm it forces; the answer
// carries model_version, arm and a request_id (server/rpc/request_id.h)
// that ReportOutcome accepts alone. Each request is counted per arm
// (ArmMetrics, and the events store through OutcomeRecorder), and a sampled
// share is scored again by the shadow version off the latency path
// (ShadowRunner); the shadow's answer is compared, never returned.
// SimilarItems always uses control.
//
// Status codes: INVALID_ARGUMENT (bad request, message names the field),
// NOT_FOUND (unknown item in SimilarItems), UNAVAILABLE (no model loaded;
// ReportOutcome on a server without an events store), DEADLINE_EXCEEDED
// (deadline passed before scoring, or while waiting for a scoring batch),
// INTERNAL (store read failure, scoring failure).
#ifndef AFFINITY_SERVER_RPC_RECOMMENDER_SERVICE_H_
#define AFFINITY_SERVER_RPC_RECOMMENDER_SERVICE_H_

#include <chrono>

#include "affinity/v1/recommender.grpc.pb.h"
#include "server/observability/arm_metrics.h"
#include "server/observability/metrics.h"
#include "server/rollout/outcome_recorder.h"
#include "server/rollout/shadow_runner.h"
#include "server/scoring/micro_batcher.h"
#include "server/lifecycle/model_manager.h"
#include "server/rpc/request_validation.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/rules/rule_pipeline.h"

namespace affinity::server {

class RecommenderService final : public affinity::v1::Recommender::Service {
 public:
  // All pointers must outlive the service and none may be null. Business
  // rules come from `rules` and are counted in `rule_metrics`.
  RecommenderService(ModelManager* models, ServerMetrics* metrics, MicroBatcher* batcher,
                     RequestLimits limits, const RuleSetRegistry* rule_sets,
                     rules::RuleEngine* rules, rules::RuleMetrics* rule_metrics);

  grpc::Status Recommend(grpc::ServerContext* context,
                         const affinity::v1::RecommendRequest* request,
                         affinity::v1::RecommendResponse* response) override;
  grpc::Status SimilarItems(grpc::ServerContext* context,
                            const affinity::v1::SimilarItemsRequest* request,
                            affinity::v1::RecommendResponse* response) override;
  grpc::Status ReportOutcome(grpc::ServerContext* context,
                             const affinity::v1::ReportOutcomeRequest* request,
                             affinity::v1::ReportOutcomeResponse* response) override;

  // Per-arm metrics, outcome recording and shadow scoring; each optional
  // (null: off). All must outlive the service. Call before serving.
  void SetArmMetrics(ArmMetrics* metrics) { arm_metrics_ = metrics; }
  void SetOutcomes(OutcomeRecorder* outcomes) { outcomes_ = outcomes; }
  void SetShadow(rollout::ShadowRunner* shadow) { shadow_ = shadow; }

 private:
  // Answers `request` with `model` (context may be null: no deadline). A
  // shadow answer touches no request metric.
  absl::Status DoRecommend(grpc::ServerContext* context,
                           const affinity::v1::RecommendRequest& request,
                           const LoadedModel& model, bool shadow,
                           affinity::v1::RecommendResponse* response);
  // Queues the shadow's answer to `request` for comparison with `served`.
  void SubmitShadow(std::shared_ptr<const LoadedModel> shadow,
                    const affinity::v1::RecommendRequest& request,
                    const affinity::v1::RecommendResponse& served);
  absl::Status DoSimilarItems(grpc::ServerContext* context,
                              const affinity::v1::SimilarItemsRequest& request,
                              affinity::v1::RecommendResponse* response);

  // The rule pipeline over `model`: `scorer` ranks the rows of `matrix`
  // (each times its entry of `row_scales` when that is not null) against
  // `query` (empty query: fallback only) through the batcher, by
  // `deadline`.
  absl::Status RespondWithRules(
      std::chrono::system_clock::time_point deadline, bool shadow, const LoadedModel& model,
      absl::string_view rule_set, size_t k, bool explain,
      const std::vector<uint32_t>& seen, std::vector<uint32_t> always_excluded,
      const std::vector<std::string>& excluded_ids, const Scorer* scorer,
      const ItemMatrix* matrix, const float* row_scales, absl::Span<const float> query,
      const std::vector<rules::CompiledFilter>& request_filters,
      const std::function<std::string(const rules::RankedItem&)>& explain_model_item,
      affinity::v1::RecommendResponse* response);

  // The request's `filters`, compiled; InvalidArgument names the bad one
  // (also one beyond the limits' max_filters or max_filter_values).
  absl::StatusOr<std::vector<rules::CompiledFilter>> CompileRequestFilters(
      const google::protobuf::RepeatedPtrField<affinity::v1::Filter>& filters) const;

  ModelManager* models_;
  rules::RuleEngine* rules_;
  rules::RuleMetrics* rule_metrics_;
  ServerMetrics* metrics_;
  ArmMetrics* arm_metrics_ = nullptr;
  OutcomeRecorder* outcomes_ = nullptr;
  rollout::ShadowRunner* shadow_ = nullptr;
  MicroBatcher* batcher_;
  RequestLimits limits_;
  const RuleSetRegistry* rule_sets_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_RECOMMENDER_SERVICE_H_
