// loadgen: open-loop gRPC load generator for affinity.v1.Recommender,
// loopback targets only. See tools/loadgen/README.md.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/command_line/parse_flags.h"
#include "tools/loadgen/load_report.h"
#include "tools/loadgen/loopback_target.h"
#include "tools/loadgen/open_loop_runner.h"
#include "tools/loadgen/request_generator.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "Server address; only 127.0.0.0/8, localhost and [::1] are accepted.");
ABSL_FLAG(std::string, method, "recommend", "RPC to load: recommend or similar.");
ABSL_FLAG(double, qps, 1000, "Requests per second, sent on schedule (open loop).");
ABSL_FLAG(double, duration_s, 10,
          "Length of the run in seconds (at most 300). SIGINT or SIGTERM ends it sooner: "
          "no more requests are sent, and the report covers those sent.");
ABSL_FLAG(int64_t, max_requests, 1000000,
          "Upper bound on requests sent (at most 10000000).");
ABSL_FLAG(int64_t, max_in_flight, 10000,
          "Requests due while this many are outstanding are skipped and counted.");
ABSL_FLAG(std::string, users_file, "", "File of user ids, one per line.");
ABSL_FLAG(std::string, user_prefix, "",
          "Without --users_file, user ids are <prefix>1 .. <prefix><num_users>.");
ABSL_FLAG(int64_t, num_users, 100, "Number of generated user ids.");
ABSL_FLAG(std::string, items_file, "",
          "File of item ids, one per line (for --recent_per_request and similar).");
ABSL_FLAG(std::string, items, "", "Item ids a,b,c (alternative to --items_file).");
ABSL_FLAG(int32_t, recent_per_request, 0,
          "Recent interactions added to each recommend request.");
ABSL_FLAG(double, recent_weight, 1.0, "Weight of each recent interaction.");
ABSL_FLAG(std::string, rule_set, "", "Business-rule set named in every request.");
ABSL_FLAG(int32_t, k, 10, "Items asked for per request.");
ABSL_FLAG(int32_t, deadline_ms, 1000, "Deadline of each request.");
ABSL_FLAG(int32_t, connect_timeout_ms, 5000,
          "How long to wait for the channel to connect before the run.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the request generator.");
ABSL_FLAG(double, max_fallback_share, 0.5,
          "Largest share of OK answers that may come wholly from the most-popular fallback "
          "(users the model does not know); beyond it the run exits 1. 1 turns the check off.");
ABSL_FLAG(std::string, answers_out, "",
          "File to write every completed request's answer to, one line each: INDEX CODE "
          "ITEM_ID,ITEM_ID,... (INDEX: the request's place in the generator's sequence, the "
          "same in every run with the same --seed and mix; CODE: the gRPC status number). "
          "Compare two servers' answers to the same requests with it.");

ABSL_FLAG(std::string, latencies_out, "",
          "File to write every completed request's timing to, one line each: DUE LATENCY_MS "
          "CODE (DUE: when the request was due, Unix seconds with microseconds; LATENCY_MS: "
          "from due to answer; CODE: the gRPC status number). Split a run by events timed "
          "outside it (tools/bench_swaps.sh does so for model swaps).");

namespace affinity::loadgen {
namespace {

constexpr double kMaxDurationS = 300;
constexpr int64_t kMaxRequests = 10000000;

// Set by SIGINT or SIGTERM: the run stops sending and reports what it has.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void RequestStop(int) { stop_requested.store(true, std::memory_order_relaxed); }

int Fail(absl::string_view message, int code = 2) {
  std::cerr << "error: " << message << "\n";
  return code;
}

absl::StatusOr<RequestMix> MixFromFlags() {
  RequestMix mix;
  const std::string method = absl::GetFlag(FLAGS_method);
  if (method == "recommend") {
    mix.method = Method::kRecommend;
  } else if (method == "similar") {
    mix.method = Method::kSimilar;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--method=", method, ": expected recommend or similar"));
  }
  if (!absl::GetFlag(FLAGS_users_file).empty()) {
    absl::StatusOr<std::vector<std::string>> users =
        ReadIdFile(absl::GetFlag(FLAGS_users_file));
    if (!users.ok()) return users.status();
    mix.users = *std::move(users);
  } else {
    mix.users = NumberedIds(absl::GetFlag(FLAGS_user_prefix),
                            std::min<int64_t>(absl::GetFlag(FLAGS_num_users), kMaxRequests));
  }
  if (!absl::GetFlag(FLAGS_items_file).empty()) {
    absl::StatusOr<std::vector<std::string>> items =
        ReadIdFile(absl::GetFlag(FLAGS_items_file));
    if (!items.ok()) return items.status();
    mix.items = *std::move(items);
  } else if (!absl::GetFlag(FLAGS_items).empty()) {
    mix.items = absl::StrSplit(absl::GetFlag(FLAGS_items), ',', absl::SkipEmpty());
  }
  mix.recent_per_request = absl::GetFlag(FLAGS_recent_per_request);
  mix.recent_weight = static_cast<float>(absl::GetFlag(FLAGS_recent_weight));
  mix.k = absl::GetFlag(FLAGS_k);
  mix.rule_set = absl::GetFlag(FLAGS_rule_set);
  mix.seed = absl::GetFlag(FLAGS_seed);
  return mix;
}

int Main(int argc, char** argv) {
  const std::vector<char*> args = command_line::ParseFlagsOrExit(
      {"loadgen",
       "open-loop load generator for the affinity server (loopback only).\n"
       "  loadgen --server=127.0.0.1:50051 --qps=1000 --duration_s=10 "
       "[--users_file=F | --user_prefix=P --num_users=N] "
       "[--items_file=F --recent_per_request=N]",
       {"tools/loadgen/"}},
      argc, argv);
  if (args.size() > 1) return Fail(absl::StrCat("unexpected argument ", args[1]));

  const std::string server = absl::GetFlag(FLAGS_server);
  if (absl::Status ok = CheckLoopbackTarget(server); !ok.ok()) {
    return Fail(ok.message());
  }
  LoadOptions options;
  options.qps = absl::GetFlag(FLAGS_qps);
  const double duration_s = absl::GetFlag(FLAGS_duration_s);
  options.max_requests = absl::GetFlag(FLAGS_max_requests);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  if (!(options.qps > 0) || options.qps > 1e6) return Fail("--qps must be in (0, 1e6]");
  if (!(duration_s > 0) || duration_s > kMaxDurationS) {
    return Fail(absl::StrCat("--duration_s must be in (0, ", kMaxDurationS, "]"));
  }
  options.duration = absl::Seconds(duration_s);
  if (options.max_requests < 1 || options.max_requests > kMaxRequests) {
    return Fail(absl::StrCat("--max_requests must be in [1, ", kMaxRequests, "]"));
  }
  if (options.max_in_flight < 1) return Fail("--max_in_flight must be >= 1");
  if (absl::GetFlag(FLAGS_deadline_ms) <= 0) return Fail("--deadline_ms must be >= 1");
  const double max_fallback_share = absl::GetFlag(FLAGS_max_fallback_share);
  if (!(max_fallback_share >= 0 && max_fallback_share <= 1)) {
    return Fail("--max_fallback_share must be in [0, 1]");
  }

  absl::StatusOr<RequestMix> mix = MixFromFlags();
  if (!mix.ok()) return Fail(mix.status().message());
  absl::StatusOr<RequestGenerator> generator = RequestGenerator::Create(*std::move(mix));
  if (!generator.ok()) return Fail(generator.status().message());

  auto channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(
          std::chrono::system_clock::now() +
          std::chrono::milliseconds(absl::GetFlag(FLAGS_connect_timeout_ms)))) {
    return Fail(absl::StrCat("cannot connect to ", server), 1);
  }
  auto stub = affinity::v1::Recommender::NewStub(channel);
  std::ofstream answers;
  const std::string answers_path = absl::GetFlag(FLAGS_answers_out);
  if (!answers_path.empty()) {
    answers.open(answers_path, std::ios::out | std::ios::trunc);
    if (!answers) return Fail(absl::StrCat("--answers_out: cannot write ", answers_path));
    options.on_answer = [&answers](int64_t index, const grpc::Status& status,
                                   const affinity::v1::RecommendResponse& response) {
      answers << index << ' ' << static_cast<int>(status.error_code()) << ' ';
      for (int i = 0; i < response.items_size(); ++i) {
        answers << (i > 0 ? "," : "") << response.items(i).item_id();
      }
      answers << '\n';
    };
  }
  std::ofstream latencies;
  const std::string latencies_path = absl::GetFlag(FLAGS_latencies_out);
  if (!latencies_path.empty()) {
    latencies.open(latencies_path, std::ios::out | std::ios::trunc);
    if (!latencies) return Fail(absl::StrCat("--latencies_out: cannot write ", latencies_path));
    options.on_latency = [&latencies](int64_t, absl::Time due, absl::Duration latency,
                                      grpc::StatusCode code) {
      latencies << absl::StrFormat("%.6f %.3f %d\n", absl::ToUnixMicros(due) / 1e6,
                                   absl::ToDoubleMilliseconds(latency), static_cast<int>(code));
    };
  }
  options.stop = &stop_requested;
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  const LoadResult result = RunOpenLoop(*stub, *generator, options);
  if (answers.is_open()) {
    answers.close();
    if (!answers) return Fail(absl::StrCat("--answers_out: error writing ", answers_path), 1);
  }
  if (latencies.is_open()) {
    latencies.close();
    if (!latencies) {
      return Fail(absl::StrCat("--latencies_out: error writing ", latencies_path), 1);
    }
  }
  std::cout << FormatLoadReport(options, result);
  const auto ok = result.by_code.find(grpc::StatusCode::OK);
  if (ok == result.by_code.end() || ok->second == 0) return 1;
  if (FallbackOnlyShare(result) > max_fallback_share) {
    return Fail(absl::StrFormat(
                    "%.1f%% of the OK answers came wholly from the most-popular fallback "
                    "(--max_fallback_share=%g): the model does not know these users; take "
                    "them from the model (affinity-train ids --users > users.txt, then "
                    "--users_file=users.txt)",
                    100 * FallbackOnlyShare(result), max_fallback_share),
                1);
  }
  return 0;
}

}  // namespace
}  // namespace affinity::loadgen

int main(int argc, char** argv) { return affinity::loadgen::Main(argc, argv); }
