// affinity-server: serves top-k recommendations over gRPC from a model
// store, routing each request to an arm of the store's A/B rollout, with
// health, reflection, Prometheus metrics and the catalog and rollout admin
// services. See server/README.md. This file only composes the pieces:
// lifecycle/ (source, loader, manager), rpc/ (services), rules/,
// rollout/ (outcomes, shadow, autopilot), observability/.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/background_work.h"
#include "server/lifecycle/built_index_store.h"
#include "server/lifecycle/malloc_settings.h"
#include "server/lifecycle/model_logging.h"
#include "server/lifecycle/model_manager.h"
#include "server/observability/arm_metrics.h"
#include "server/observability/log.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_http_server.h"
#include "server/rollout/autopilot.h"
#include "server/rollout/outcome_recorder.h"
#include "server/rollout/shadow_runner.h"
#include "server/rpc/admin_auth.h"
#include "server/rpc/catalog_admin_service.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/recommender_service.h"
#include "server/rpc/request_validation.h"
#include "server/rpc/rollout_admin_service.h"
#include "server/rpc/server_credentials.h"
#include "server/rpc/utf8_checked_service.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rule_metrics.h"
#include "server/rules/rules_file_watcher.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/micro_batcher.h"
#include "server/scoring/scorer.h"
#include "storage/event_store.h"
#include "storage/model_store.h"
#include "tools/command_line/parse_flags.h"

ABSL_FLAG(std::string, db, "", "Model store directory (required); its rollout is served.");
ABSL_FLAG(bool, create_store, false,
          "Create an empty model store when --db holds none, and wait for its first version. "
          "false: a --db without a store is an error at start (exit 1), so a mistyped or "
          "unmounted path is not served as an empty store.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address HOST:PORT.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "HTTP address HOST:PORT for /metrics (Prometheus) and /healthz; empty disables.");
ABSL_FLAG(int, max_k, 1000, "Largest k a request may ask for.");
ABSL_FLAG(std::string, scorer, "exact",
          "Item ranking for users: exact (SIMD scan), int8 (int8 scan for k x "
          "--int8_candidates candidates, re-ranked exactly), ivf (the int8 scan over the "
          "--ivf_probes k-means lists nearest the query, re-ranked exactly; approximate) or "
          "hnsw (approximate graph search).");
ABSL_FLAG(int, int8_candidates, 2,
          "--scorer=int8 or ivf: candidates per query as a multiple of k (1..1000), re-ranked "
          "exactly in float32.");
ABSL_FLAG(int, rule_set_copies_mb, -1,
          "--scorer=int8: memory per loaded version, in MB, for the rule sets' own int8 copies "
          "of the items they keep (sets keeping 5-50% of the items; the smallest sets first): "
          "-1 = half of the full int8 copy, 0 = none. -1..1000000.");
ABSL_FLAG(int, ivf_lists, 0,
          "--scorer=ivf: k-means lists the items are split into at load; 0: about "
          "sqrt(items). 0..1000000.");
ABSL_FLAG(int, ivf_probes, 0,
          "--scorer=ivf: lists scanned per query, those whose centroid scores highest (more "
          "when they hold too few rows for the query's candidates); 0: a 32nd of the lists. "
          "0..1000000.");
ABSL_FLAG(int, hnsw_ef, 200, "HNSW search breadth (higher: better recall, slower).");
ABSL_FLAG(bool, store_built_index, true,
          "With --scorer=hnsw or ivf: store an index this server had to build (HNSW graph, IVF "
          "lists; the version had none stored) with its version, opening --db read-write for "
          "that write alone, so that later loads load it. false: never write to --db for it.");
ABSL_FLAG(int, max_batch, 32,
          "Largest number of requests scored together in one pass over the item matrix (exact "
          "and int8 scorers): requests arriving while a pass runs are scored together by the "
          "next one, a request arriving at an idle server at once. 1: no batching. A queued "
          "request holds a request thread, so keep --threads well above it.");
ABSL_FLAG(int, scan_threads, 0,
          "Threads that scan one pass over the item matrix together, each an item range "
          "(exact scans of 32k items or more, int8 scans of 128k or more), the request's own "
          "thread included: 0 = one per core, 1 = no split.");
ABSL_FLAG(int, batch_window_us, 0,
          "Extra gathering delay in microseconds (0 = none): a pass starts once its oldest "
          "request waited this long, or --max_batch requests are queued.");
ABSL_FLAG(int, poll_ms, 250,
          "How often the store is checked for a rollout change or a new version "
          "(milliseconds); every server of a store applies a change within about this long.");
ABSL_FLAG(int, threads, -1,
          "Maximum request-serving threads: -1 = 64 per core, 0 = unbounded (gRPC's default, a "
          "thread per concurrent call). Calls arriving while every thread is busy are refused "
          "at once with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, load_nice, 10,
          "Nice value of the thread that loads a version beside the serving one, prepares it "
          "and frees released ones (0..19): it takes the cores only when requests leave them "
          "idle. Polling the store keeps the server's priority. 0: the server's own priority.");
ABSL_FLAG(bool, load_sched_idle, false,
          "Also run that thread under Linux's SCHED_IDLE policy: a request thread waking on "
          "its core preempts it at once (a niced thread may first finish its time slice).");
ABSL_FLAG(std::string, rules, "",
          "Business rules file (protobuf text format, or JSON when it ends in .json); "
          "reloaded when it changes and on SIGHUP. Empty: no rules.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "gRPC address of the admin services (affinity.v1.CatalogAdmin, "
          "affinity.v1.RolloutAdmin); empty disables.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the token every admin call must carry as gRPC metadata "
          "\"authorization: Bearer TOKEN\"; read at start. Required when --admin_listen is not "
          "a loopback address.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (chain) of the gRPC ports; with --tls_key, --listen and "
          "--admin_listen speak TLS only. Empty: plaintext.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (unencrypted).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): clients of the gRPC ports must present a certificate "
          "signed by one (mutual TLS). Needs --tls_cert.");
ABSL_FLAG(bool, reflection, true, "Serve gRPC server reflection on the gRPC ports.");
ABSL_FLAG(int, catalog_poll_ms, 500,
          "How often catalog writes by other processes are picked up (milliseconds).");
ABSL_FLAG(bool, events, true,
          "Keep an events store (DIR/events/INSTANCE) for ReportOutcome and per-arm request "
          "counts.");
ABSL_FLAG(std::string, instance, "",
          "This server's name among the servers of the store (its events directory); "
          "empty: HOSTNAME-PORT of --listen (HOSTNAME-pidPID when the port is 0).");
ABSL_FLAG(int, events_retention_days, 90, "Outcome events older than this are deleted; 0 keeps all.");
ABSL_FLAG(int, max_outcomes_per_call, 1000, "Largest number of outcomes in one ReportOutcome.");
ABSL_FLAG(int, max_request_filters, 32, "Largest number of catalog filters in one request.");
ABSL_FLAG(int, max_filter_values, 1000,
          "Largest number of any_of/none_of values in one catalog filter of a request.");
ABSL_FLAG(int, max_recent, 1000, "Largest number of recent interactions in one request.");
ABSL_FLAG(int, max_exclude_items, 10000,
          "Largest number of exclude_item_ids in one Recommend or SimilarItems request.");
ABSL_FLAG(int, max_id_bytes, 256,
          "Longest id or name in a request, in bytes: user, item, session and request ids, "
          "rule_set, a filter's attribute, values and dates.");
ABSL_FLAG(int, max_admin_items, 10000,
          "Largest number of items in one UpsertItems, or of item ids in one DeleteItems.");
ABSL_FLAG(int, max_item_bytes, 65536,
          "Largest catalog item of an UpsertItems, serialized (title, categories, tags, ...).");
ABSL_FLAG(int, max_message_bytes, 4 << 20,
          "Largest request message the gRPC ports accept, in bytes; larger ones are refused "
          "with RESOURCE_EXHAUSTED before they are parsed.");
ABSL_FLAG(int, shadow_queue, 64,
          "Shadow requests that may wait for the shadow version; beyond it they are dropped.");
ABSL_FLAG(int, autopilot_seconds, 10,
          "How often the canary auto-promotion rule is checked (seconds); 0 disables it here.");

namespace affinity::server {
namespace {

absl::Status CheckFlags() {
  if (absl::GetFlag(FLAGS_db).empty()) return absl::InvalidArgumentError("--db is required");
  const int max_k = absl::GetFlag(FLAGS_max_k);
  if (max_k < 1 || max_k > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("--max_k: expected 1..100000, got ", max_k));
  }
  if (absl::GetFlag(FLAGS_hnsw_ef) < 1) return absl::InvalidArgumentError("--hnsw_ef: expected >= 1");
  const int int8_candidates = absl::GetFlag(FLAGS_int8_candidates);
  if (int8_candidates < 1 || int8_candidates > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--int8_candidates: expected 1..1000, got ", int8_candidates));
  }
  const int copies_mb = absl::GetFlag(FLAGS_rule_set_copies_mb);
  if (copies_mb < -1 || copies_mb > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rule_set_copies_mb: expected -1 (half of the int8 copy) or 0..1000000, got ",
        copies_mb));
  }
  for (const auto& [name, value] : {std::pair<const char*, int>{"ivf_lists", absl::GetFlag(FLAGS_ivf_lists)},
                                     {"ivf_probes", absl::GetFlag(FLAGS_ivf_probes)}}) {
    if (value < 0 || value > 1000000) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": expected 0..1000000, got ", value));
    }
  }
  const int max_batch = absl::GetFlag(FLAGS_max_batch);
  if (max_batch < 1 || max_batch > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_batch: expected 1..1024, got ", max_batch));
  }
  const int scan_threads = absl::GetFlag(FLAGS_scan_threads);
  if (scan_threads < 0 || scan_threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("--scan_threads: expected 0 (one per core) or 1..256, got ", scan_threads));
  }
  const int window = absl::GetFlag(FLAGS_batch_window_us);
  if (window < 0 || window > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_window_us: expected 0..100000, got ", window));
  }
  if (absl::GetFlag(FLAGS_poll_ms) < 10) return absl::InvalidArgumentError("--poll_ms: expected >= 10");
  if (absl::GetFlag(FLAGS_catalog_poll_ms) < 10) {
    return absl::InvalidArgumentError("--catalog_poll_ms: expected >= 10");
  }
  if (absl::GetFlag(FLAGS_threads) < -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads: expected -1 (64 per core), 0 (unbounded) or a bound, got ",
        absl::GetFlag(FLAGS_threads)));
  }
  if (absl::GetFlag(FLAGS_load_nice) < 0 || absl::GetFlag(FLAGS_load_nice) > 19) {
    return absl::InvalidArgumentError(
        absl::StrCat("--load_nice: expected 0..19, got ", absl::GetFlag(FLAGS_load_nice)));
  }
  if (absl::GetFlag(FLAGS_events_retention_days) < 0) {
    return absl::InvalidArgumentError("--events_retention_days: expected >= 0");
  }
  if (absl::GetFlag(FLAGS_max_outcomes_per_call) < 1) {
    return absl::InvalidArgumentError("--max_outcomes_per_call: expected >= 1");
  }
  if (absl::GetFlag(FLAGS_max_request_filters) < 1) {
    return absl::InvalidArgumentError("--max_request_filters: expected >= 1");
  }
  if (absl::GetFlag(FLAGS_max_filter_values) < 1) {
    return absl::InvalidArgumentError("--max_filter_values: expected >= 1");
  }
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"max_recent", absl::GetFlag(FLAGS_max_recent)},
        {"max_exclude_items", absl::GetFlag(FLAGS_max_exclude_items)},
        {"max_id_bytes", absl::GetFlag(FLAGS_max_id_bytes)},
        {"max_admin_items", absl::GetFlag(FLAGS_max_admin_items)},
        {"max_item_bytes", absl::GetFlag(FLAGS_max_item_bytes)}}) {
    if (value < 1) return absl::InvalidArgumentError(absl::StrCat("--", name, ": expected >= 1"));
  }
  if (absl::GetFlag(FLAGS_max_message_bytes) < 1024) {
    return absl::InvalidArgumentError("--max_message_bytes: expected >= 1024");
  }
  if (absl::GetFlag(FLAGS_shadow_queue) < 1) {
    return absl::InvalidArgumentError("--shadow_queue: expected >= 1");
  }
  if (absl::GetFlag(FLAGS_autopilot_seconds) < 0) {
    return absl::InvalidArgumentError("--autopilot_seconds: expected >= 0");
  }
  return absl::OkStatus();
}

// --instance, or HOSTNAME-PORT of --listen.
std::string InstanceName() {
  std::string instance = absl::GetFlag(FLAGS_instance);
  if (!instance.empty()) return instance;
  char host[256] = "host";
  gethostname(host, sizeof(host) - 1);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon != std::string::npos) (void)absl::SimpleAtoi(listen.substr(colon + 1), &port);
  return port > 0 ? absl::StrCat(host, "-", port) : absl::StrCat(host, "-pid", getpid());
}

std::shared_ptr<const rules::CompiledRules> InitialRules(absl::Status* status) {
  const std::string path = absl::GetFlag(FLAGS_rules);
  if (path.empty()) return *rules::ParseRules("(no rules)", "");
  auto loaded = rules::LoadRulesFile(path, absl::GetFlag(FLAGS_max_k));
  if (!loaded.ok()) {
    *status = loaded.status();
    return nullptr;
  }
  return *std::move(loaded);
}

// DIR/events/INSTANCE, with --events_retention_days.
absl::StatusOr<std::unique_ptr<storage::EventStore>> OpenEvents(const std::string& db,
                                                                const std::string& instance) {
  storage::EventStoreOptions options;
  options.retention_days = absl::GetFlag(FLAGS_events_retention_days);
  auto opened = storage::EventStore::Open(db, instance, options);
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("cannot open the events store (--instance=", instance,
                                     "): ", opened.status().ToString()));
  }
  return opened;
}

// The admin token of --admin_token_file, or null without one; an admin
// port reachable from other hosts must have one.
absl::StatusOr<std::unique_ptr<AdminAuth>> AdminAuthFromFlags() {
  const std::string path = absl::GetFlag(FLAGS_admin_token_file);
  const std::string listen = absl::GetFlag(FLAGS_admin_listen);
  if (path.empty()) {
    if (listen.empty() || IsLoopbackListen(listen)) return nullptr;
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin_listen=", listen, " is not a loopback address: other hosts could change the "
        "catalog and the rollout, so --admin_token_file is required with it"));
  }
  absl::StatusOr<std::string> token = LoadAdminToken(path);
  if (!token.ok()) return token.status();
  return std::make_unique<AdminAuth>(*token);
}

// The admin services on --admin_listen, with the credentials and options
// of the recommendation port.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    GrpcServerOptions options, std::initializer_list<grpc::Service*> services) {
  options.listen = absl::GetFlag(FLAGS_admin_listen);
  int port = 0;
  grpc::ServerBuilder builder;
  ConfigureListener(options, &builder, &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("--admin_listen: cannot listen on \"", options.listen,
                     "\" (in use by another process, or not an address of this host)"));
  }
  LogLine(absl::StrCat("admin services on ", options.listen, " (port ", port, ")"));
  return server;
}

int Run() {
  // Signals are taken synchronously by sigwait below; block them before any
  // thread starts so every thread inherits the mask. First of all: gRPC
  // starts its executor and timer threads when the first credentials are
  // made, and a stop signal delivered to one of those would end the process
  // without the drain.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Debian's abseil is built with absl::Mutex's deadlock detection on, and
  // gRPC locks absl::Mutex on every call: each lock then updates a global
  // lock graph (about 3x the cost of a plain lock). The tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // A retired version's blocks go back to the system when it is freed, so
  // RSS does not grow with every swap (see malloc_settings.h).
  FixMallocThresholds();

  if (absl::Status s = CheckFlags(); !s.ok()) {
    LogLine(std::string(s.message()));
    return 2;
  }
  absl::StatusOr<ScorerKind> kind = ParseScorerKind(absl::GetFlag(FLAGS_scorer));
  if (!kind.ok()) {
    LogLine(std::string(kind.status().message()));
    return 2;
  }
  absl::StatusOr<std::unique_ptr<AdminAuth>> admin_auth = AdminAuthFromFlags();
  if (!admin_auth.ok()) {
    LogLine(std::string(admin_auth.status().message()));
    return 2;
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentialsFromFiles({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                  absl::GetFlag(FLAGS_tls_client_ca)});
  if (!credentials.ok()) {
    LogLine(std::string(credentials.status().message()));
    return 2;
  }
  const std::string db = absl::GetFlag(FLAGS_db);
  storage::ModelStoreOptions store_options;
  store_options.create_if_missing = absl::GetFlag(FLAGS_create_store);
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower, store_options);
  if (!store.ok()) {
    LogLine(absl::StrCat("cannot open model store --db=", db, ": ", store.status().message(),
                         absl::IsNotFound(store.status())
                             ? " (publish a version first, or pass --create_store to wait for one)"
                             : ""));
    return 1;
  }
  auto admin_store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower, store_options);
  if (!admin_store.ok()) {
    LogLine(absl::StrCat("cannot open model store --db=", db, ": ",
                         admin_store.status().ToString()));
    return 1;
  }

  // Rules and catalog: a bad rules file at start is fatal (exit 2); later a
  // bad file is logged and the previous rules keep serving.
  absl::Status rules_status;
  std::shared_ptr<const rules::CompiledRules> initial_rules = InitialRules(&rules_status);
  if (initial_rules == nullptr) {
    LogLine(absl::StrCat("rules rejected: ", rules_status.message()));
    return 2;
  }
  auto catalog = rules::CatalogView::Open(db);
  if (!catalog.ok()) {
    LogLine(absl::StrCat("cannot open the catalog under --db=", db, ": ",
                         catalog.status().ToString()));
    return 1;
  }
  rules::RuleEngine rule_engine(initial_rules, catalog->get());
  rules::RuleMetrics rule_metrics;
  LogLine(absl::StrCat("rules: ", absl::GetFlag(FLAGS_rules).empty() ? "none" : absl::GetFlag(FLAGS_rules),
                       " (rule sets: ", absl::StrJoin(initial_rules->Names(), ", "),
                       "); catalog: ", (*catalog)->snapshot()->items.size(), " items"));

  // The model lifecycle: the rollout's versions, loaded and warmed before
  // they serve.
  ServerMetrics metrics;
  ArmMetrics arm_metrics;
  ModelManagerOptions manager_options;
  manager_options.scorer.kind = *kind;
  manager_options.scorer.hnsw_ef = static_cast<size_t>(absl::GetFlag(FLAGS_hnsw_ef));
  manager_options.scorer.int8_candidate_factor =
      static_cast<size_t>(absl::GetFlag(FLAGS_int8_candidates));
  manager_options.scorer.int8_allowed_copy_bytes =
      absl::GetFlag(FLAGS_rule_set_copies_mb) < 0
          ? -1
          : int64_t{absl::GetFlag(FLAGS_rule_set_copies_mb)} << 20;
  manager_options.scorer.ivf_lists = static_cast<size_t>(absl::GetFlag(FLAGS_ivf_lists));
  manager_options.scorer.ivf_probes = static_cast<size_t>(absl::GetFlag(FLAGS_ivf_probes));
  const int scan_threads = absl::GetFlag(FLAGS_scan_threads) > 0
                               ? absl::GetFlag(FLAGS_scan_threads)
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  manager_options.scorer.scan_pool = std::make_shared<ScanPool>(scan_threads);
  manager_options.poll_thread_nice = absl::GetFlag(FLAGS_load_nice);
  manager_options.load_sched_idle = absl::GetFlag(FLAGS_load_sched_idle);
  ModelManager models(*std::move(store), manager_options);
  models.SetWarmUp([&](const LoadedModel& model) {
    const std::shared_ptr<const rules::PreparedRules> prepared = rule_engine.Prepare(model);
    if (prepared == nullptr) return;
    LogLine(absl::StrFormat("rules prepared for version %d: rule sets %d, scan copies %.1f MB",
                            model.version, prepared->sets.size(),
                            static_cast<double>(prepared->ScanCopyBytes()) / (1 << 20)));
  });
  // A rules reload prepares the serving versions before the rules apply.
  rule_engine.SetServingModels([&models] { return models.ServingModels(); });
  // A catalog change is prepared here, off the request path.
  auto warm_all = [&] {
    for (const auto& model : models.ServingModels()) rule_engine.Prepare(*model);
  };

  // Outcomes and per-arm counts.
  const std::string instance = InstanceName();
  std::unique_ptr<storage::EventStore> events;
  if (absl::GetFlag(FLAGS_events)) {
    auto opened = OpenEvents(db, instance);
    if (!opened.ok()) {
      LogLine(std::string(opened.status().message()));
      return absl::IsInvalidArgument(opened.status()) ? 2 : 1;
    }
    events = *std::move(opened);
  }
  std::unique_ptr<OutcomeRecorder> outcomes =
      events ? std::make_unique<OutcomeRecorder>(events.get(), &arm_metrics) : nullptr;
  rollout::ShadowRunner shadow(static_cast<size_t>(absl::GetFlag(FLAGS_shadow_queue)));

  MicroBatcherOptions batching;
  batching.window = std::chrono::microseconds(absl::GetFlag(FLAGS_batch_window_us));
  batching.max_batch = static_cast<size_t>(absl::GetFlag(FLAGS_max_batch));
  batching.on_pass = [&metrics](const PassStats& pass) {
    metrics.RecordPass(pass.queries, pass.seconds);
  };
  MicroBatcher batcher(batching);
  RequestLimits limits;
  limits.max_k = absl::GetFlag(FLAGS_max_k);
  limits.max_outcomes = static_cast<size_t>(absl::GetFlag(FLAGS_max_outcomes_per_call));
  limits.max_filters = absl::GetFlag(FLAGS_max_request_filters);
  limits.max_filter_values = absl::GetFlag(FLAGS_max_filter_values);
  limits.max_recent = static_cast<size_t>(absl::GetFlag(FLAGS_max_recent));
  limits.max_excludes = static_cast<size_t>(absl::GetFlag(FLAGS_max_exclude_items));
  limits.max_id_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_id_bytes));
  RuleSetRegistry rule_sets;
  rule_sets.SetLookup([&](absl::string_view name) { return rule_engine.Known(name); });
  RecommenderService service(&models, &metrics, &batcher, limits, &rule_sets, &rule_engine,
                             &rule_metrics);
  service.SetArmMetrics(&arm_metrics);
  service.SetOutcomes(outcomes.get());
  service.SetShadow(&shadow);

  GrpcServerOptions grpc_options;
  grpc_options.listen = absl::GetFlag(FLAGS_listen);
  grpc_options.threads =
      absl::GetFlag(FLAGS_threads) < 0 ? DefaultServingThreads() : absl::GetFlag(FLAGS_threads);
  grpc_options.on_refused = [&metrics] { metrics.AddShed(); };
  grpc_options.credentials = *credentials;
  grpc_options.reflection = absl::GetFlag(FLAGS_reflection);
  grpc_options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  // Parses requests itself: a string field that is not UTF-8 is
  // INVALID_ARGUMENT naming it, not gRPC's INTERNAL.
  std::unique_ptr<Utf8CheckedService> checked_service = Utf8CheckedRecommender(
      &service, [&metrics](double seconds) {
        metrics.RecordStage(ServerMetrics::kSerialize, seconds);
      });
  auto grpc_server = GrpcServer::Start(grpc_options, checked_service.get());
  if (!grpc_server.ok()) {
    LogLine(grpc_server.status().ToString());
    return 1;
  }
  GrpcServer* grpc = grpc_server->get();

  AttachModelLogging(&models, &metrics, &arm_metrics, absl::GetFlag(FLAGS_poll_ms));
  if (absl::GetFlag(FLAGS_store_built_index)) {
    // Before the version serves: the write takes seconds, the build it
    // spares later loads minutes.
    models.AddLoadListener([db](const LoadedModel& model) {
      if (model.index_source != "built") return;
      auto stored = StoreBuiltIndex(db, model, /*lock_wait_ms=*/2000);
      if (stored.ok()) {
        LogLine(absl::StrCat("stored index ", stored->kind(), "/", stored->params(),
                             " of version ", model.version, " (", stored->blob_bytes(),
                             " bytes) with the version"));
      } else {
        LogLine(absl::StrCat("index of version ", model.version, " not stored: ",
                             stored.status().ToString()));
      }
    });
  }
  models.AddRoutingListener([&](const RoutingTable& table, const std::vector<std::string>&) {
    rule_engine.Retain(table.versions());
    grpc->SetServing(true);
  });

  std::unique_ptr<MetricsHttpServer> http;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto started = MetricsHttpServer::Start(
        metrics_listen,
        {[&] { return metrics.Render() + arm_metrics.Render() + rule_metrics.Render(); },
         [&] { return models.HasModel(); }});
    if (!started.ok()) {
      LogLine(started.status().ToString());
      return 1;
    }
    http = std::move(*started);
  }
  LogLine(absl::StrCat("gRPC ports: ",
                       absl::GetFlag(FLAGS_tls_cert).empty()        ? "plaintext"
                       : absl::GetFlag(FLAGS_tls_client_ca).empty() ? "TLS"
                                                                    : "TLS with client certificates",
                       ", reflection ", absl::GetFlag(FLAGS_reflection) ? "on" : "off"));
  LogLine(absl::StrFormat(
      "started: grpc %s (port %d), metrics %s (port %d), db %s, instance %s, scorer %s, "
      "max_k %d, threads %s, max_batch %d, batch_window_us %d, scan_threads %d, poll_ms %d%s",
      grpc_options.listen, grpc->port(), metrics_listen.empty() ? "off" : metrics_listen,
      http == nullptr ? 0 : http->port(), db, instance, absl::GetFlag(FLAGS_scorer),
      limits.max_k,
      grpc_options.threads > 0 ? absl::StrCat(grpc_options.threads) : std::string("unbounded"),
      absl::GetFlag(FLAGS_max_batch), absl::GetFlag(FLAGS_batch_window_us), scan_threads,
      absl::GetFlag(FLAGS_poll_ms),
      *kind == ScorerKind::kInt8 || *kind == ScorerKind::kIvf
          ? absl::StrCat(", int8 kernel ", Int8IsaName(BestInt8Isa()))
          : std::string()));

  // Admin services: catalog writes and rollout changes. Every listening
  // address is bound before any model loads, so a failure to listen returns
  // before background threads exist.
  CatalogAdminService catalog_admin(catalog->get(), warm_all);
  std::unique_ptr<Utf8CheckedService> checked_catalog_admin = Utf8CheckedCatalogAdmin(&catalog_admin);
  RolloutAdminService rollout_admin(db, [&]() { return admin_store->get(); });
  catalog_admin.SetAuth(admin_auth->get());
  catalog_admin.SetLimits({static_cast<size_t>(absl::GetFlag(FLAGS_max_admin_items)),
                           limits.max_id_bytes,
                           static_cast<size_t>(absl::GetFlag(FLAGS_max_item_bytes))});
  rollout_admin.SetAuth(admin_auth->get());
  std::unique_ptr<grpc::Server> admin_server;
  if (!absl::GetFlag(FLAGS_admin_listen).empty()) {
    auto started = StartAdminServer(grpc_options, {checked_catalog_admin.get(), &rollout_admin});
    if (!started.ok()) {
      LogLine(std::string(started.status().message()));
      return 1;
    }
    admin_server = *std::move(started);
  }

  models.StartPolling(std::chrono::milliseconds(absl::GetFlag(FLAGS_poll_ms)));

  // Background work: catalog and rules file, request counts, autopilot.
  rules::RulesFileWatcher rules_watcher(absl::GetFlag(FLAGS_rules), limits.max_k, &rule_engine,
                                        LogLine, warm_all);
  std::unique_ptr<rollout::Autopilot> autopilot;
  if (absl::GetFlag(FLAGS_autopilot_seconds) > 0) {
    autopilot = std::make_unique<rollout::Autopilot>(db, admin_store->get(),
                                                     absl::StrCat("autopilot on ", instance));
  }
  BackgroundWorkParts parts;
  parts.catalog = catalog->get();
  parts.rules_watcher = &rules_watcher;
  parts.catalog_changed = warm_all;
  parts.catalog_poll = std::chrono::milliseconds(absl::GetFlag(FLAGS_catalog_poll_ms));
  parts.outcomes = outcomes.get();
  parts.events = events.get();
  parts.autopilot = autopilot.get();
  parts.autopilot_store = admin_store->get();
  parts.autopilot_period = std::chrono::seconds(absl::GetFlag(FLAGS_autopilot_seconds));
  BackgroundWork background(std::move(parts));

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    LogLine("SIGHUP: reloading the rules file");
    rules_watcher.Check(true);
  }
  if (admin_server != nullptr) {
    admin_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  LogLine(absl::StrCat("shutting down on signal ", signal_number,
                       ": draining in-flight requests (up to 5 s)"));
  models.StopPolling();
  grpc->Shutdown(std::chrono::seconds(5));
  shadow.Stop();
  background.Stop();  // after the drain: its last flush counts every request
  http.reset();
  LogLine("shut down");
  return 0;
}

}  // namespace
}  // namespace affinity::server

int main(int argc, char** argv) {
  const std::vector<char*> args = affinity::command_line::ParseFlagsOrExit(
      {"affinity-server",
       "Serves affinity.v1.Recommender over gRPC from a model store.\n"
       "Usage: affinity-server --db=DIR [--listen=127.0.0.1:50051] [--scorer=exact|int8|ivf|hnsw] ...",
       {"server/main.cc"}},
      argc, argv);
  if (args.size() > 1) {
    std::cerr << "affinity-server: unexpected argument '" << args[1]
              << "' (see affinity-server --help)" << std::endl;
    return 2;
  }
  return affinity::server::Run();
}
