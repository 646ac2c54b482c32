// affinity-server: serves top-k recommendations over gRPC from the live
// model version of a model store, with health, reflection and Prometheus
// metrics. See server/README.md.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/rpc/catalog_admin_service.h"
#include "server/rpc/grpc_server.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_http_server.h"
#include "server/scoring/micro_batcher.h"
#include "server/lifecycle/model_manager.h"
#include "server/rpc/recommender_service.h"
#include "server/rpc/request_validation.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

ABSL_FLAG(std::string, db, "", "Model store directory (required); the live version is served.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address HOST:PORT.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "HTTP address HOST:PORT for /metrics (Prometheus) and /healthz; empty disables.");
ABSL_FLAG(int, max_k, 1000, "Largest k a request may ask for.");
ABSL_FLAG(std::string, scorer, "exact",
          "Item ranking for users: exact (SIMD scan) or hnsw (approximate graph search).");
ABSL_FLAG(int, hnsw_ef, 200, "HNSW search breadth (higher: better recall, slower).");
ABSL_FLAG(int, batch_window_us, 0,
          "Micro-batching window in microseconds (0 = off): concurrent requests arriving "
          "within it are scored in one pass over the item matrix.");
ABSL_FLAG(int, poll_seconds, 10, "How often to look for a new live model version.");
ABSL_FLAG(int, threads, 0,
          "Maximum request-serving threads (0 = gRPC default, grows as needed). When "
          "bounded, calls beyond it are rejected with RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, rules, "",
          "Business rules file (protobuf text format, or JSON when it ends in .json); "
          "reloaded when it changes and on SIGHUP. Empty: no rules.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "gRPC address of the catalog admin service (affinity.v1.CatalogAdmin); "
          "empty disables.");
ABSL_FLAG(int, catalog_poll_ms, 500,
          "How often catalog writes by other processes are picked up (milliseconds).");

namespace affinity::server {
namespace {

void Log(const std::string& message) {
  std::fprintf(stderr, "%s affinity-server: %s\n",
               absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()).c_str(),
               message.c_str());
  std::fflush(stderr);
}

absl::Status CheckFlags() {
  if (absl::GetFlag(FLAGS_db).empty()) return absl::InvalidArgumentError("--db is required");
  const int max_k = absl::GetFlag(FLAGS_max_k);
  if (max_k < 1 || max_k > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("--max_k: expected 1..100000, got ", max_k));
  }
  if (absl::GetFlag(FLAGS_hnsw_ef) < 1) {
    return absl::InvalidArgumentError("--hnsw_ef: expected >= 1");
  }
  const int window = absl::GetFlag(FLAGS_batch_window_us);
  if (window < 0 || window > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_window_us: expected 0..100000, got ", window));
  }
  if (absl::GetFlag(FLAGS_poll_seconds) < 1) {
    return absl::InvalidArgumentError("--poll_seconds: expected >= 1");
  }
  if (absl::GetFlag(FLAGS_catalog_poll_ms) < 10) {
    return absl::InvalidArgumentError("--catalog_poll_ms: expected >= 10");
  }
  if (absl::GetFlag(FLAGS_threads) < 0) {
    return absl::InvalidArgumentError("--threads: expected >= 0");
  }
  return absl::OkStatus();
}

int Run() {
  if (absl::Status s = CheckFlags(); !s.ok()) {
    Log(std::string(s.message()));
    return 2;
  }
  absl::StatusOr<ScorerKind> kind = ParseScorerKind(absl::GetFlag(FLAGS_scorer));
  if (!kind.ok()) {
    Log(std::string(kind.status().message()));
    return 2;
  }
  // Signals are taken synchronously by sigwait below; block them before any
  // thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string db = absl::GetFlag(FLAGS_db);
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  if (!store.ok()) {
    Log(absl::StrCat("cannot open model store --db=", db, ": ", store.status().ToString()));
    return 1;
  }

  // Rules and catalog: a bad rules file at start is fatal (exit 2); later
  // a bad file is logged and the previous rules keep serving.
  const std::string rules_path = absl::GetFlag(FLAGS_rules);
  std::shared_ptr<const rules::CompiledRules> initial_rules;
  if (rules_path.empty()) {
    initial_rules = *rules::ParseRules("(no rules)", "");
  } else {
    auto loaded = rules::LoadRulesFile(rules_path, absl::GetFlag(FLAGS_max_k));
    if (!loaded.ok()) {
      Log(absl::StrCat("rules rejected: ", loaded.status().message()));
      return 2;
    }
    initial_rules = std::move(*loaded);
  }
  auto catalog = rules::CatalogView::Open(db);
  if (!catalog.ok()) {
    Log(absl::StrCat("cannot open the catalog under --db=", db, ": ",
                     catalog.status().ToString()));
    return 1;
  }
  rules::RuleEngine rule_engine(initial_rules, catalog->get());
  rules::RuleMetrics rule_metrics;
  Log(absl::StrCat("rules: ", rules_path.empty() ? "none" : rules_path, " (rule sets: ",
                   absl::StrJoin(initial_rules->Names(), ", "), "); catalog: ",
                   (*catalog)->snapshot()->items.size(), " items"));

  ServerMetrics metrics;
  ModelManagerOptions manager_options;
  manager_options.scorer.kind = *kind;
  manager_options.scorer.hnsw_ef = static_cast<size_t>(absl::GetFlag(FLAGS_hnsw_ef));
  ModelManager models(std::move(*store), manager_options);
  MicroBatcher batcher(
      {std::chrono::microseconds(absl::GetFlag(FLAGS_batch_window_us)), 32});
  RequestLimits limits;
  limits.max_k = absl::GetFlag(FLAGS_max_k);
  RuleSetRegistry rule_sets;
  rule_sets.SetLookup([&](absl::string_view name) { return rule_engine.Known(name); });
  RecommenderService service(&models, &metrics, &batcher, limits, &rule_sets);
  service.SetRules(&rule_engine, &rule_metrics);

  GrpcServerOptions grpc_options;
  grpc_options.listen = absl::GetFlag(FLAGS_listen);
  grpc_options.threads = absl::GetFlag(FLAGS_threads);
  auto grpc_server = GrpcServer::Start(grpc_options, &service);
  if (!grpc_server.ok()) {
    Log(grpc_server.status().ToString());
    return 1;
  }
  GrpcServer* grpc = grpc_server->get();

  models.AddSwapListener([&](const std::string& arm, const LoadedModel& model,
                             uint64_t previous) {
    Log(absl::StrFormat(
        "model loaded: version %d (arm %s, replaces %d), algorithm %s, users %d, items %d, "
        "dims %d, scorer %s, load time %.3f s",
        model.version, arm, previous, model.metadata.algorithm(), model.metadata.users(),
        model.metadata.items(), model.metadata.dims(), model.scorer->name(),
        model.load_seconds));
    metrics.RecordModelLoad(model.version, model.load_seconds);
    rule_engine.Prepare(model);  // ahead of the first request on this version
    metrics.SetLoadedModels(models.ServingVersions());
    grpc->SetServing(true);
  });
  models.AddFailureListener([&](uint64_t version, const absl::Status& status) {
    Log(absl::StrCat("model version ", version, " failed to load: ", status.ToString()));
    metrics.AddModelLoadFailure();
  });

  std::unique_ptr<MetricsHttpServer> http;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto started = MetricsHttpServer::Start(
        metrics_listen, {[&] { return metrics.Render() + rule_metrics.Render(); },
                         [&] { return models.HasModel(); }});
    if (!started.ok()) {
      Log(started.status().ToString());
      return 1;
    }
    http = std::move(*started);
  }

  Log(absl::StrFormat(
      "started: grpc %s (port %d), metrics %s (port %d), db %s, scorer %s, max_k %d, "
      "batch_window_us %d, poll_seconds %d",
      grpc_options.listen, grpc->port(), metrics_listen.empty() ? "off" : metrics_listen,
      http == nullptr ? 0 : http->port(), db,
      absl::GetFlag(FLAGS_scorer), limits.max_k, absl::GetFlag(FLAGS_batch_window_us),
      absl::GetFlag(FLAGS_poll_seconds)));

  // Logs when the polling outcome changes (not every period).
  absl::StatusCode last_poll = absl::StatusCode::kOk;
  models.SetPollListener([&](const absl::Status& status) {
    if (status.code() == last_poll) return;
    last_poll = status.code();
    if (absl::IsNotFound(status)) {
      Log(absl::StrCat("no model published yet (", status.message(), "); polling every ",
                       absl::GetFlag(FLAGS_poll_seconds), " s"));
    } else if (!status.ok() && !absl::IsCancelled(status)) {
      Log(absl::StrCat("model poll failed: ", status.ToString()));
    }
  });
  models.StartPolling(std::chrono::seconds(absl::GetFlag(FLAGS_poll_seconds)));

  // Prepares the rules for the serving model ahead of requests.
  auto warm = [&] {
    const ModelManager::Route route = models.RouteRequest("");
    if (route.model != nullptr) rule_engine.Prepare(*route.model);
  };
  CatalogAdminService admin(catalog->get(), warm);
  std::unique_ptr<grpc::Server> admin_server;
  const std::string admin_listen = absl::GetFlag(FLAGS_admin_listen);
  int admin_port = 0;
  if (!admin_listen.empty()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(admin_listen, grpc::InsecureServerCredentials(), &admin_port);
    builder.RegisterService(&admin);
    admin_server = builder.BuildAndStart();
    if (admin_server == nullptr || admin_port == 0) {
      Log(absl::StrCat("--admin_listen: cannot listen on \"", admin_listen, "\""));
      return 1;
    }
    Log(absl::StrCat("catalog admin on ", admin_listen, " (port ", admin_port, ")"));
  }

  // Rules file reloads (on mtime change, checked every second, and on
  // SIGHUP) and catalog refreshes, on one background thread.
  std::mutex reload_mu;
  int64_t rules_mtime_ns = -1;
  auto file_mtime_ns = [](const std::string& path) -> int64_t {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return -1;
    return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  };
  auto reload_rules = [&](bool force) {
    std::lock_guard<std::mutex> lock(reload_mu);
    if (rules_path.empty()) return;
    const int64_t mtime = file_mtime_ns(rules_path);
    if (!force && mtime == rules_mtime_ns) return;
    rules_mtime_ns = mtime;
    auto loaded = rules::LoadRulesFile(rules_path, limits.max_k);
    if (!loaded.ok()) {
      Log(absl::StrCat("rules rejected, keeping the previous rules: ",
                       loaded.status().message()));
      return;
    }
    rule_engine.SetRules(*loaded);
    Log(absl::StrCat("rules reloaded from ", rules_path, " (rule sets: ",
                     absl::StrJoin((*loaded)->Names(), ", "), ")"));
    warm();
  };
  rules_mtime_ns = file_mtime_ns(rules_path);
  std::atomic<bool> stop_background{false};
  std::thread background([&] {
    const auto catalog_period = std::chrono::milliseconds(absl::GetFlag(FLAGS_catalog_poll_ms));
    auto next_rules_check = std::chrono::steady_clock::now();
    auto next_full_read = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (!stop_background.load()) {
      const bool full = std::chrono::steady_clock::now() >= next_full_read;
      if (full) next_full_read = std::chrono::steady_clock::now() + std::chrono::minutes(5);
      absl::StatusOr<bool> changed = (*catalog)->Refresh(full);
      if (!changed.ok()) {
        Log(absl::StrCat("catalog refresh failed: ", changed.status().ToString()));
      } else if (*changed) {
        warm();
      }
      if (std::chrono::steady_clock::now() >= next_rules_check) {
        reload_rules(false);
        next_rules_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      }
      for (auto waited = std::chrono::milliseconds(0);
           waited < catalog_period && !stop_background.load();
           waited += std::chrono::milliseconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  });

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    Log("SIGHUP: reloading the rules file");
    reload_rules(true);
  }
  stop_background = true;
  background.join();
  if (admin_server != nullptr) {
    admin_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  Log(absl::StrCat("shutting down on signal ", signal_number,
                   ": draining in-flight requests (up to 5 s)"));
  models.StopPolling();
  grpc->Shutdown(std::chrono::seconds(5));
  http.reset();
  Log("shut down");
  return 0;
}

}  // namespace
}  // namespace affinity::server

int main(int argc, char** argv) {
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "server/main.cc");
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(
      "Serves affinity.v1.Recommender over gRPC from a model store.\n"
      "Usage: affinity-server --db=DIR [--listen=127.0.0.1:50051] [--scorer=exact|hnsw] ...");
  absl::ParseCommandLine(argc, argv);
  return affinity::server::Run();
}
