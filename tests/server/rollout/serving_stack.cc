#include "tests/server/rollout/serving_stack.h"

#include <map>
#include <tuple>
#include <vector>

#include "server/rules/rule_config_loader.h"

namespace affinity::server::testing {

absl::StatusOr<std::unique_ptr<ServingStack>> ServingStack::Start(
    const std::string& db, const ServingStackOptions& options) {
  std::unique_ptr<ServingStack> s(new ServingStack());
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  auto no_rules = rules::ParseRules("(no rules)", "");
  if (!no_rules.ok()) return no_rules.status();
  auto catalog = rules::CatalogView::Open(db);
  if (!catalog.ok()) return catalog.status();
  s->catalog_ = *std::move(catalog);
  s->rule_engine_ = std::make_unique<rules::RuleEngine>(*no_rules, s->catalog_.get());

  ModelManagerOptions manager_options;
  manager_options.scorer = options.scorer;
  s->models_ = std::make_unique<ModelManager>(*std::move(store), manager_options);
  rules::RuleEngine* engine = s->rule_engine_.get();
  s->models_->SetWarmUp([engine](const LoadedModel& model) { engine->Prepare(model); });
  ModelManager* models = s->models_.get();
  engine->SetServingModels([models] { return models->ServingModels(); });

  if (!options.instance.empty()) {
    auto events = storage::EventStore::Open(db, options.instance);
    if (!events.ok()) return events.status();
    s->events_ = *std::move(events);
    s->outcomes_ = std::make_unique<OutcomeRecorder>(s->events_.get(), &s->arm_metrics_);
  }
  s->shadow_ = std::make_unique<rollout::ShadowRunner>(options.shadow_queue);
  ServerMetrics* stack_metrics = &s->metrics_;
  MicroBatcherOptions batching{options.batch_window, options.max_batch};
  batching.on_pass = [stack_metrics](const PassStats& pass) {
    stack_metrics->RecordPass(pass.queries, pass.seconds);
  };
  s->batcher_ = std::make_unique<MicroBatcher>(batching);
  s->rule_sets_.SetLookup([engine](absl::string_view name) { return engine->Known(name); });
  s->service_ = std::make_unique<RecommenderService>(s->models_.get(), &s->metrics_,
                                                     s->batcher_.get(), RequestLimits{},
                                                     &s->rule_sets_, engine, &s->rule_metrics_);
  s->service_->SetArmMetrics(&s->arm_metrics_);
  s->service_->SetOutcomes(s->outcomes_.get());
  s->service_->SetShadow(s->shadow_.get());

  s->checked_service_ = Utf8CheckedRecommender(s->service_.get(), [stack_metrics](double seconds) {
    stack_metrics->RecordStage(ServerMetrics::kSerialize, seconds);
  });
  GrpcServerOptions grpc_options;
  grpc_options.listen = "127.0.0.1:0";
  grpc_options.threads = options.threads;
  ServerMetrics* server_metrics = &s->metrics_;
  grpc_options.on_refused = [server_metrics] { server_metrics->AddShed(); };
  auto grpc = GrpcServer::Start(grpc_options, s->checked_service_.get());
  if (!grpc.ok()) return grpc.status();
  s->grpc_ = *std::move(grpc);
  GrpcServer* server = s->grpc_.get();
  ArmMetrics* arm_metrics = &s->arm_metrics_;
  ServerMetrics* metrics = &s->metrics_;
  s->models_->AddLoadListener([metrics](const LoadedModel& model) {
    metrics->RecordModelLoad(model.version, model.load_seconds);
  });
  s->models_->AddRoutingListener(
      [server, arm_metrics, metrics, engine](const RoutingTable& table,
                                             const std::vector<std::string>&) {
        std::map<std::string, uint64_t> serving;
        std::vector<std::tuple<std::string, uint64_t, int32_t>> shares;
        for (const ArmServable& arm : table.arms()) {
          serving[arm.name] = arm.version;
          shares.emplace_back(arm.name, arm.version, arm.basis_points);
        }
        metrics->SetLoadedModels(serving);
        arm_metrics->SetRollout(table.revision(), shares);
        engine->Retain(table.versions());
        server->SetServing(true);
      });
  s->models_->AddFailureListener(
      [metrics](uint64_t, const absl::Status&) { metrics->AddModelLoadFailure(); });
  if (options.poll.count() > 0) s->models_->StartPolling(options.poll);
  s->stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
  return s;
}

ServingStack::~ServingStack() { Stop(); }

void ServingStack::Stop() {
  if (stopped_) return;
  stopped_ = true;
  models_->StopPolling();
  grpc_->Shutdown(std::chrono::seconds(5));
  shadow_->Stop();
  if (outcomes_ != nullptr) (void)outcomes_->Flush();
}

std::string ServingStack::RenderMetrics() const {
  return metrics_.Render() + arm_metrics_.Render() + rule_metrics_.Render();
}

grpc::Status ServingStack::Recommend(const affinity::v1::RecommendRequest& request,
                                     affinity::v1::RecommendResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub_->Recommend(&context, request, response);
}

grpc::Status ServingStack::ReportOutcome(const affinity::v1::ReportOutcomeRequest& request,
                                         affinity::v1::ReportOutcomeResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub_->ReportOutcome(&context, request, response);
}

}  // namespace affinity::server::testing
