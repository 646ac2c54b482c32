// affinity: command-line client of the affinity.v1.Recommender service.
//
//   affinity recommend --user=U [--k=10] [--recent=item:weight,...]
//                      [--exclude=a,b] [--rule_set=NAME] [--filters_json=JSON]
//                      [--explain] [--json]
//   affinity similar --item=I [--k=10] [--exclude=a,b] [--rule_set=NAME]
//                    [--filters_json=JSON] [--explain] [--json]
//   affinity admin upsert --item_json='{"itemId":"1","inStock":false}' | --items_file=F.jsonl
//                         [--replace_items]
//   affinity admin delete --item=a,b
//   affinity events export --db=DIR --since=2026-11-01|UNIX_SECONDS [--until=...]
//                          --out=FILE [--weights=click:1,conversion:5,impression:0]
//   affinity rollout show|set|promote|rollback|shadow|policy|history|status
//                    --db=DIR[,DIR...] | --admin=HOST:PORT[,...] [flags]
//   affinity rules check FILE [--db=DIR] [--max_k=1000]
//
// Exit codes: 0 success; 2 bad usage or an INVALID_ARGUMENT / NOT_FOUND
// answer; 1 any other failure; rollout show: 3 when its targets disagree;
// rules check: 1 when the file is invalid (tools/cli/rules_command.h).
// `affinity rollout` reads its own flags (tools/cli/rollout_args.h).
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "affinity/v1/recommender.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/cli/admin_command.h"
#include "tools/cli/catalog_titles.h"
#include "tools/cli/events_command.h"
#include "tools/cli/grpc_error.h"
#include "tools/cli/connection.h"
#include "tools/cli/request_args.h"
#include "tools/cli/response_format.h"
#include "tools/cli/rollout_command.h"
#include "tools/cli/rules_command.h"
#include "tools/command_line/parse_flags.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "Address of the affinity server (host:port).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate that signed the server's (TLS; empty with --tls_cert: the "
          "system's roots). All TLS flags empty: plaintext.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate, for a server run with --tls_client_ca (TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, admin_token_file, "",
          "admin: file holding the server's admin token (its --admin_token_file), sent as "
          "\"authorization: Bearer TOKEN\".");
ABSL_FLAG(int32_t, timeout_ms, 1000, "Deadline of the RPC in milliseconds.");
ABSL_FLAG(std::string, db, "",
          "Store directory. recommend, similar: optional; item titles are read "
          "from its catalog and shown beside ids. events export: required; "
          "the outcome events are read from DIR/events. rules check: optional; "
          "the rules are also checked against DIR/catalog.");
ABSL_FLAG(std::string, user, "", "recommend: the user id; outcome: the user (optional).");
ABSL_FLAG(std::string, session, "",
          "recommend: a session id, which picks the A/B arm when there is no --user.");
ABSL_FLAG(std::string, arm, "", "recommend: force this A/B arm (QA; counted apart).");
ABSL_FLAG(std::string, request_id, "", "outcome: the request_id of the answer.");
ABSL_FLAG(std::string, event, "click", "outcome: impression, click or conversion.");
ABSL_FLAG(int64_t, at_unix_micros, 0,
          "outcome: when it happened (0: the server's clock). A retry with the same time is "
          "recognised and not counted twice.");
ABSL_FLAG(std::string, item, "", "similar: the item id; outcome: the item acted on.");
ABSL_FLAG(int32_t, k, 10, "Number of items wanted.");
ABSL_FLAG(int32_t, max_k, 1000,
          "rules check: the server's --max_k (pin slots must lie in 1..max_k).");
ABSL_FLAG(std::string, recent, "",
          "recommend: latest interactions as item:weight,item:weight,...");
ABSL_FLAG(std::string, exclude, "", "Item ids never to return: a,b,...");
ABSL_FLAG(std::string, rule_set, "", "Named business-rule set (empty: default).");
ABSL_FLAG(std::string, filters_json, "",
          "recommend, similar: request-time catalog filters, a JSON array of "
          "affinity.v1.Filter objects, e.g. "
          "[{\"attribute\":\"price\",\"max\":50}]; every item must pass "
          "all of them and the rule set's own filters.");
ABSL_FLAG(bool, explain, false, "Ask for and print per-item explanations.");
ABSL_FLAG(bool, json, false, "Print the response as JSON.");
ABSL_FLAG(std::string, admin_server, "127.0.0.1:50052",
          "admin: address of the server's catalog admin port (host:port).");
ABSL_FLAG(std::string, item_json, "",
          "admin upsert: one CatalogItem as JSON, e.g. {\"itemId\":\"1\",\"inStock\":false}.");
ABSL_FLAG(std::string, items_file, "",
          "admin upsert: file of CatalogItems, one JSON object per line.");
ABSL_FLAG(bool, replace_items, false,
          "admin upsert: replace each item whole (fields its JSON leaves out are cleared, "
          "inStock becomes false) instead of writing only the fields its keys give.");
ABSL_FLAG(std::string, since, "",
          "events export: first time exported (inclusive): 2026-11-01 (UTC), "
          "RFC 3339, or Unix seconds.");
ABSL_FLAG(std::string, until, "",
          "events export: end of the export (exclusive), same forms as --since; "
          "empty: no end.");
ABSL_FLAG(std::string, out, "", "events export: the CSV file written.");
ABSL_FLAG(std::string, weights, "click:1,conversion:5,impression:0",
          "events export: training weight per event type; types not listed "
          "weigh 0, and events weighing 0 are not exported.");

namespace affinity::cli {
namespace {

constexpr int kUsageExit = 2;

constexpr char kUsage[] =
    "client of the affinity scoring server.\n"
    "\n"
    "  affinity recommend --user=U [--k=10] [--recent=item:weight,...]\n"
    "                     [--exclude=a,b] [--rule_set=NAME] [--filters_json=JSON]\n"
    "                     [--explain] [--json]\n"
    "                     [--session=S] [--arm=NAME]\n"
    "  affinity similar --item=I [--k=10] [--exclude=a,b] [--rule_set=NAME]\n"
    "                   [--filters_json=JSON] [--explain] [--json]\n"
    "  affinity outcome --request_id=ID --item=I [--event=impression|click|conversion]\n"
    "                   [--user=U] [--at_unix_micros=T]   (what the user did with an answer)\n"
    "  affinity admin upsert --item_json='{\"itemId\":\"1\",\"inStock\":false}'\n"
    "                        | --items_file=ITEMS.jsonl [--admin_server=127.0.0.1:50052]\n"
    "                        [--replace_items]   (writes only the fields given, e.g.\n"
    "                        item 1's stock; --replace_items: whole items)\n"
    "  affinity admin delete --item=a,b [--admin_server=127.0.0.1:50052]\n"
    "  affinity events export --db=DIR --since=2026-11-01|UNIX_SECONDS [--until=...]\n"
    "                         --out=FILE [--weights=click:1,conversion:5,impression:0]\n"
    "  affinity rollout show|set|promote|rollback|shadow|policy|history|status\n"
    "                   --db=DIR[,DIR...] | --admin=HOST:PORT[,...] [flags]\n"
    "                   (affinity rollout --help lists its flags)\n"
    "  affinity rules check FILE [--db=DIR] [--max_k=1000]\n"
    "                   (validates a rules file as the server would, and against\n"
    "                   the catalog under DIR; exit 1 when invalid)\n"
    "\n"
    "Filters: --filters_json is a JSON array of affinity.v1.Filter objects\n"
    "(attribute, anyOf, noneOf, min, max, equals, newerThan, olderThan,\n"
    "keepMissing), e.g.\n"
    "  --filters_json='[{\"attribute\":\"category\",\"anyOf\":[\"Comedy\",\"Drama\"]},\n"
    "                   {\"attribute\":\"price\",\"min\":10,\"max\":50}]'\n"
    "\n"
    "Common flags: --server=127.0.0.1:50051 --timeout_ms=1000 --db=DIR\n"
    "Exit codes: 0 ok; 2 bad usage, INVALID_ARGUMENT or NOT_FOUND; 1 other "
    "errors; rollout show: 3 when its targets disagree; rules check: 1 when the\n"
    "file is invalid.";

int UsageError(absl::string_view message) {
  std::cerr << "error: " << message << "\n"
            << "usage: affinity recommend|similar|outcome|admin|events|rollout|rules [flags]; see --help\n";
  return kUsageExit;
}

// The TLS and admin token flags, loaded; a bad one ends the process with
// the usage exit code.
Connection LoadConnectionOrExit() {
  absl::StatusOr<Connection> connection =
      LoadConnection({absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                      absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_admin_token_file)});
  if (!connection.ok()) std::exit(UsageError(connection.status().message()));
  return *std::move(connection);
}

std::unique_ptr<affinity::v1::Recommender::Stub> Connect() {
  return affinity::v1::Recommender::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_server), LoadConnectionOrExit().credentials));
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms)));
}

int PrintResponse(const affinity::v1::RecommendResponse& response) {
  if (absl::GetFlag(FLAGS_json)) {
    absl::StatusOr<std::string> json = FormatJson(response);
    if (!json.ok()) {
      std::cerr << "error: " << json.status().message() << "\n";
      return 1;
    }
    std::cout << *json << "\n";
    return 0;
  }
  TitleLookup titles;
  const std::string db = absl::GetFlag(FLAGS_db);
  if (!db.empty()) {
    absl::StatusOr<TitleLookup> opened = OpenCatalogTitles(db);
    if (opened.ok()) {
      titles = *std::move(opened);
    } else {
      std::cerr << "note: titles not shown: " << opened.status().message()
                << "\n";
    }
  }
  std::cout << FormatTable(response, titles, absl::GetFlag(FLAGS_explain));
  return 0;
}

int Finish(const grpc::Status& status,
           const affinity::v1::RecommendResponse& response) {
  if (!status.ok()) {
    std::cerr << FormatRpcError(status) << "\n";
    return ExitCodeForRpc(status);
  }
  return PrintResponse(response);
}

// Copies --filters_json into a request's repeated `filters` field.
absl::Status AddFilters(
    google::protobuf::RepeatedPtrField<affinity::v1::Filter>* filters) {
  absl::StatusOr<std::vector<affinity::v1::Filter>> parsed =
      ParseFiltersJson(absl::GetFlag(FLAGS_filters_json));
  if (!parsed.ok()) return parsed.status();
  for (auto& filter : *parsed) *filters->Add() = std::move(filter);
  return absl::OkStatus();
}

int RunRecommend() {
  affinity::v1::RecommendRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user));
  request.set_session_id(absl::GetFlag(FLAGS_session));
  request.set_arm(absl::GetFlag(FLAGS_arm));
  request.set_k(absl::GetFlag(FLAGS_k));
  request.set_rule_set(absl::GetFlag(FLAGS_rule_set));
  request.set_explain(absl::GetFlag(FLAGS_explain));
  absl::StatusOr<std::vector<affinity::v1::Interaction>> recent =
      ParseRecent(absl::GetFlag(FLAGS_recent));
  if (!recent.ok()) return UsageError(recent.status().message());
  for (auto& interaction : *recent) *request.add_recent() = std::move(interaction);
  absl::StatusOr<std::vector<std::string>> exclude =
      ParseIdList(absl::GetFlag(FLAGS_exclude), "--exclude");
  if (!exclude.ok()) return UsageError(exclude.status().message());
  for (auto& id : *exclude) request.add_exclude_item_ids(std::move(id));
  if (absl::Status s = AddFilters(request.mutable_filters()); !s.ok()) {
    return UsageError(s.message());
  }
  if (request.user_id().empty() && request.recent().empty()) {
    return UsageError(
        "recommend needs --user (or --recent for an anonymous session, with --session to keep "
        "its arm)");
  }
  if (!absl::GetFlag(FLAGS_item).empty()) {
    return UsageError("--item belongs to 'similar', not 'recommend'");
  }

  grpc::ClientContext context;
  SetDeadline(context);
  affinity::v1::RecommendResponse response;
  const grpc::Status status = Connect()->Recommend(&context, request, &response);
  return Finish(status, response);
}

int RunSimilar() {
  affinity::v1::SimilarItemsRequest request;
  request.set_item_id(absl::GetFlag(FLAGS_item));
  request.set_k(absl::GetFlag(FLAGS_k));
  request.set_rule_set(absl::GetFlag(FLAGS_rule_set));
  request.set_explain(absl::GetFlag(FLAGS_explain));
  absl::StatusOr<std::vector<std::string>> exclude =
      ParseIdList(absl::GetFlag(FLAGS_exclude), "--exclude");
  if (!exclude.ok()) return UsageError(exclude.status().message());
  for (auto& id : *exclude) request.add_exclude_item_ids(std::move(id));
  if (absl::Status s = AddFilters(request.mutable_filters()); !s.ok()) {
    return UsageError(s.message());
  }
  if (request.item_id().empty()) return UsageError("similar needs --item");
  if (!absl::GetFlag(FLAGS_user).empty() || !absl::GetFlag(FLAGS_recent).empty()) {
    return UsageError("--user and --recent belong to 'recommend', not 'similar'");
  }

  grpc::ClientContext context;
  SetDeadline(context);
  affinity::v1::RecommendResponse response;
  const grpc::Status status =
      Connect()->SimilarItems(&context, request, &response);
  return Finish(status, response);
}

int RunAdmin(absl::string_view subcommand) {
  const std::string server = absl::GetFlag(FLAGS_admin_server);
  const int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (subcommand == "upsert") {
    const std::string inline_json = absl::GetFlag(FLAGS_item_json);
    const std::string file = absl::GetFlag(FLAGS_items_file);
    if (inline_json.empty() == file.empty()) {
      return UsageError("admin upsert needs exactly one of --item_json and --items_file");
    }
    std::string text = inline_json;
    if (!file.empty()) {
      std::ifstream in(file);
      if (!in) return UsageError(absl::StrCat("--items_file: cannot read ", file));
      std::stringstream contents;
      contents << in.rdbuf();
      text = contents.str();
    }
    absl::StatusOr<affinity::v1::UpsertItemsRequest> request = ParseUpsertRequestJson(
        text, file.empty() ? "--item_json" : file, absl::GetFlag(FLAGS_replace_items));
    if (!request.ok()) return UsageError(request.status().message());
    return RunAdminUpsert(server, timeout_ms, *request, LoadConnectionOrExit());
  }
  if (subcommand == "delete") {
    absl::StatusOr<std::vector<std::string>> ids =
        ParseIdList(absl::GetFlag(FLAGS_item), "--item");
    if (!ids.ok()) return UsageError(ids.status().message());
    if (ids->empty()) return UsageError("admin delete needs --item=a,b");
    return RunAdminDelete(server, timeout_ms, *ids, LoadConnectionOrExit());
  }
  return UsageError(absl::StrCat("unknown admin command \"", subcommand,
                                 "\" (expected upsert or delete)"));
}

int RunEvents(absl::string_view subcommand) {
  if (subcommand != "export") {
    return UsageError(absl::StrCat("unknown events command \"", subcommand,
                                   "\" (expected export)"));
  }
  ExportOptions options;
  options.db = absl::GetFlag(FLAGS_db);
  options.out = absl::GetFlag(FLAGS_out);
  if (options.db.empty()) return UsageError("events export needs --db=DIR");
  if (options.out.empty()) return UsageError("events export needs --out=FILE");
  const std::string since = absl::GetFlag(FLAGS_since);
  if (since.empty()) return UsageError("events export needs --since=2026-11-01|UNIX_SECONDS");
  absl::StatusOr<int64_t> since_micros = ParseTimeFlag(since, "--since");
  if (!since_micros.ok()) return UsageError(since_micros.status().message());
  options.since_unix_micros = *since_micros;
  const std::string until = absl::GetFlag(FLAGS_until);
  if (!until.empty()) {
    absl::StatusOr<int64_t> until_micros = ParseTimeFlag(until, "--until");
    if (!until_micros.ok()) return UsageError(until_micros.status().message());
    if (*until_micros <= *since_micros) {
      return UsageError("--until must be later than --since");
    }
    options.until_unix_micros = *until_micros;
  }
  absl::StatusOr<EventWeights> weights = ParseEventWeights(absl::GetFlag(FLAGS_weights));
  if (!weights.ok()) return UsageError(weights.status().message());
  options.weights = *weights;

  absl::StatusOr<ExportStats> stats = ExportEvents(options);
  if (!stats.ok()) {
    std::cerr << "error: " << stats.status().message() << "\n";
    return 1;
  }
  std::cerr << DescribeExport(*stats, options.out) << "\n";
  return 0;
}

int RunOutcome() {
  affinity::v1::ReportOutcomeRequest request;
  affinity::v1::OutcomeReport* outcome = request.add_outcomes();
  outcome->set_request_id(absl::GetFlag(FLAGS_request_id));
  outcome->set_item_id(absl::GetFlag(FLAGS_item));
  outcome->set_user_id(absl::GetFlag(FLAGS_user));
  outcome->set_at_unix_micros(absl::GetFlag(FLAGS_at_unix_micros));
  const std::string event = absl::GetFlag(FLAGS_event);
  if (event == "impression") {
    outcome->set_event(affinity::v1::IMPRESSION);
  } else if (event == "click") {
    outcome->set_event(affinity::v1::CLICK);
  } else if (event == "conversion") {
    outcome->set_event(affinity::v1::CONVERSION);
  } else {
    return UsageError("--event: expected impression, click or conversion");
  }
  if (outcome->request_id().empty()) return UsageError("--request_id: expected an answer's id");
  if (outcome->item_id().empty()) return UsageError("--item: expected the item acted on");
  grpc::ClientContext context;
  SetDeadline(context);
  affinity::v1::ReportOutcomeResponse response;
  const grpc::Status status = Connect()->ReportOutcome(&context, request, &response);
  if (!status.ok()) {
    std::cerr << FormatRpcError(status) << "\n";
    return ExitCodeForRpc(status);
  }
  std::cout << "stored " << response.accepted() << " outcome(s)"
            << (response.duplicates() > 0
                    ? absl::StrCat(", ", response.duplicates(), " already stored")
                    : std::string())
            << "\n";
  return 0;
}

int Main(int argc, char** argv) {
  // Before Abseil's parser, whose built-in --version would take rollout's
  // --version=N.
  if (argc >= 2 && absl::string_view(argv[1]) == "rollout") {
    return RunRolloutCommand(std::vector<std::string>(argv + 2, argv + argc), std::cout,
                             std::cerr);
  }
  std::vector<char*> args =
      command_line::ParseFlagsOrExit({"affinity", kUsage, {"tools/cli/"}}, argc, argv);

  if (args.size() >= 2 && absl::string_view(args[1]) == "admin") {
    if (args.size() != 3) return UsageError("expected: affinity admin upsert|delete [flags]");
    if (absl::GetFlag(FLAGS_timeout_ms) <= 0) return UsageError("--timeout_ms must be >= 1");
    return RunAdmin(args[2]);
  }
  if (args.size() >= 2 && absl::string_view(args[1]) == "rules") {
    if (args.size() != 4 || absl::string_view(args[2]) != "check") {
      return UsageError("expected: affinity rules check FILE [--db=DIR] [--max_k=1000]");
    }
    if (absl::GetFlag(FLAGS_max_k) < 1) return UsageError("--max_k must be >= 1");
    return RunRulesCheck(args[3], absl::GetFlag(FLAGS_db), absl::GetFlag(FLAGS_max_k),
                         std::cout, std::cerr);
  }
  if (args.size() >= 2 && absl::string_view(args[1]) == "events") {
    if (args.size() != 3) return UsageError("expected: affinity events export [flags]");
    return RunEvents(args[2]);
  }
  if (args.size() != 2) {
    return UsageError(args.size() < 2 ? "missing command"
                                      : "expected exactly one command");
  }
  if (absl::GetFlag(FLAGS_k) <= 0) return UsageError("--k must be >= 1");
  if (absl::GetFlag(FLAGS_timeout_ms) <= 0) {
    return UsageError("--timeout_ms must be >= 1");
  }
  const absl::string_view command = args[1];
  if (command == "recommend") return RunRecommend();
  if (command == "similar") return RunSimilar();
  if (command == "outcome") return RunOutcome();
  return UsageError(absl::StrCat(
      "unknown command \"", command,
      "\" (expected recommend, similar, outcome, admin, events or rollout)"));
}

}  // namespace
}  // namespace affinity::cli

int main(int argc, char** argv) { return affinity::cli::Main(argc, argv); }
