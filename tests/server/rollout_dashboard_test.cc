// The rollout dashboard (tools/grafana/affinity-rollout.json) against the
// real affinity-server: a store with control, one more arm and a shadow,
// a few Recommend and ReportOutcome calls so that every per-arm and shadow
// series exists, then every metric, label and label value the dashboard's
// queries name must be in the server's /metrics, and every rollout, shadow
// and model family the server exports must be on the dashboard.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "affinity/v1/rollout.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/dashboard_queries.h"
#include "tests/server/exposition.h"
#include "tests/server/http_get.h"
#include "tests/server/promql_refs.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::DashboardQuery;
using testing::Exposition;
using testing::kServerBinary;
using testing::LoggedPort;
using testing::ReadFile;
using testing::Sample;
using testing::Spawn;
using testing::TmpDir;
using testing::WaitExit;
using testing::WaitForLog;

constexpr char kDashboard[] = "tools/grafana/affinity-rollout.json";
constexpr char kDataSource[] = "${DS_PROMETHEUS}";

// Labels Prometheus attaches to every scraped series.
bool IsTargetLabel(const std::string& label) { return label == "job" || label == "instance"; }

// Metric families of the rollout that the dashboard must show.
bool IsRolloutFamily(const std::string& family) {
  for (const char* prefix :
       {"affinity_arm_", "affinity_rollout_", "affinity_shadow_", "affinity_model_"}) {
    if (absl::StartsWith(family, prefix)) return true;
  }
  return false;
}

// Sum of the values of `name`'s samples whose labels include `labels`.
double SumOf(const Exposition& scrape, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const Sample& s : scrape.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) sum += s.value;
  }
  return sum;
}

// What is wrong with one dashboard query against the scrape, one line each.
std::vector<std::string> CheckQuery(const DashboardQuery& query, const Exposition& scrape) {
  std::vector<std::string> problems;
  const std::string where = absl::StrCat(query.path, " (", query.expr, "): ");
  absl::StatusOr<testing::PromqlRefs> refs = testing::ParsePromqlRefs(query.expr);
  if (!refs.ok()) return {where + std::string(refs.status().message())};
  if (refs->selectors.empty()) return {where + "names no metric"};
  std::set<std::string> query_labels;  // labels of every series the query reads
  for (const testing::SeriesSelector& selector : refs->selectors) {
    std::set<std::string> labels;
    std::set<std::pair<std::string, std::string>> values;
    bool exported = false;
    for (const Sample& s : scrape.samples) {
      if (s.name != selector.metric) continue;
      exported = true;
      for (const auto& [k, v] : s.labels) {
        labels.insert(k);
        values.emplace(k, v);
      }
    }
    if (!exported) {
      problems.push_back(where + selector.metric + " is not exported by affinity-server");
      continue;
    }
    query_labels.insert(labels.begin(), labels.end());
    for (const testing::LabelMatcher& m : selector.matchers) {
      if (IsTargetLabel(m.label)) continue;
      if (labels.count(m.label) == 0) {
        problems.push_back(absl::StrCat(where, selector.metric, " has no label ", m.label));
      } else if (m.op == "=" && values.count({m.label, m.value}) == 0) {
        problems.push_back(absl::StrCat(where, selector.metric, " has no series with ", m.label,
                                        "=\"", m.value, "\""));
      }
    }
  }
  std::set<std::string> named = refs->grouping_labels;
  named.insert(query.output_labels.begin(), query.output_labels.end());
  for (const std::string& label : named) {
    if (!IsTargetLabel(label) && query_labels.count(label) == 0) {
      problems.push_back(where + "label " + label + " is on none of the metrics it reads");
    }
  }
  return problems;
}

// Every sample name the dashboard's queries read.
std::set<std::string> DashboardMetrics(const std::vector<DashboardQuery>& queries) {
  std::set<std::string> names;
  for (const DashboardQuery& q : queries) {
    absl::StatusOr<testing::PromqlRefs> refs = testing::ParsePromqlRefs(q.expr);
    if (!refs.ok()) continue;  // reported by CheckQuery
    for (const testing::SeriesSelector& s : refs->selectors) names.insert(s.metric);
  }
  return names;
}

std::string DataSourceUid(const google::protobuf::Struct& object) {
  auto ds = object.fields().find("datasource");
  if (ds == object.fields().end()) return "";
  auto uid = ds->second.struct_value().fields().find("uid");
  return uid == ds->second.struct_value().fields().end() ? "" : uid->second.string_value();
}

// The dashboard as Grafana imports it: the data source is the
// DS_PROMETHEUS input everywhere, panel ids are unique, panels fit the
// 24-column grid and every panel (rows aside) has a query.
TEST(RolloutDashboardTest, IsAnImportableDashboardWithOneDataSourceInput) {
  const std::string json = ReadFile(kDashboard);
  ASSERT_FALSE(json.empty()) << kDashboard << " is missing or empty";
  absl::StatusOr<google::protobuf::Struct> dashboard = testing::ParseDashboardJson(json);
  ASSERT_TRUE(dashboard.ok()) << dashboard.status();
  const auto& fields = dashboard->fields();
  ASSERT_TRUE(fields.count("__inputs"));
  const auto& inputs = fields.at("__inputs").list_value().values();
  ASSERT_EQ(inputs.size(), 1);
  EXPECT_EQ(inputs[0].struct_value().fields().at("name").string_value(), "DS_PROMETHEUS");
  EXPECT_EQ(inputs[0].struct_value().fields().at("pluginId").string_value(), "prometheus");
  EXPECT_EQ(fields.at("uid").string_value(), "affinity-rollout");
  EXPECT_GE(fields.at("schemaVersion").number_value(), 36);

  std::set<int> ids;
  int with_queries = 0;
  for (const auto& value : fields.at("panels").list_value().values()) {
    const google::protobuf::Struct& panel = value.struct_value();
    const std::string title = panel.fields().at("title").string_value();
    const int id = static_cast<int>(panel.fields().at("id").number_value());
    EXPECT_TRUE(ids.insert(id).second) << "panel id " << id << " used twice (" << title << ")";
    const auto& grid = panel.fields().at("gridPos").struct_value().fields();
    EXPECT_LE(grid.at("x").number_value() + grid.at("w").number_value(), 24) << title;
    if (panel.fields().at("type").string_value() == "row") continue;
    EXPECT_EQ(DataSourceUid(panel), kDataSource) << title;
    EXPECT_TRUE(panel.fields().count("description")) << title << " has no description";
    ASSERT_TRUE(panel.fields().count("targets")) << title;
    const auto& targets = panel.fields().at("targets").list_value().values();
    EXPECT_GT(targets.size(), 0) << title;
    for (const auto& target : targets) {
      EXPECT_EQ(DataSourceUid(target.struct_value()), kDataSource) << title;
      EXPECT_FALSE(target.struct_value().fields().at("expr").string_value().empty()) << title;
    }
    ++with_queries;
  }
  EXPECT_GE(with_queries, 10);
}

TEST(RolloutDashboardTest, EveryMetricItNamesIsExportedByTheServer) {
  absl::StatusOr<google::protobuf::Struct> dashboard =
      testing::ParseDashboardJson(ReadFile(kDashboard));
  ASSERT_TRUE(dashboard.ok()) << dashboard.status();
  absl::StatusOr<std::vector<DashboardQuery>> queries = testing::DashboardQueries(*dashboard);
  ASSERT_TRUE(queries.ok()) << queries.status();

  // Versions 1, 2 and 3: control on 1, the arm "treatment" on 2 with half
  // of the buckets, and 3 as the shadow of every request.
  const std::string db = TmpDir() + "/dashboard-db";
  {
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint32_t seed : {11u, 12u, 13u}) {
      ASSERT_TRUE(
          testing::Publish(store->get(), testing::MakeImplicitModel(seed, 40, 60, 8, 8)).ok());
    }
    affinity::v1::RolloutState state;
    state.set_salt("dashboard-test");
    state.set_control_version(1);
    affinity::v1::RolloutArm* arm = state.add_arms();
    arm->set_name("treatment");
    arm->set_version(2);
    arm->set_basis_points(5000);
    state.mutable_shadow()->set_version(3);
    state.mutable_shadow()->set_basis_points(10000);
    auto stored = (*store)->UpdateRollout(0, state, {"dashboard test", "set", "test rollout"});
    ASSERT_TRUE(stored.ok()) << stored.status();
  }

  const std::string log = TmpDir() + "/dashboard-server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0",
                           "--metrics_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                           "--poll_ms=100", "--instance=dashboard-test", "--autopilot_seconds=0"},
                          log);
  const std::string text = WaitForLog(log, "routing (rollout revision 1)");
  ASSERT_NE(text.find("routing (rollout revision 1): control=v1 (50%), treatment=v2 (50%)"),
            std::string::npos)
      << text;
  const std::optional<int> grpc_port = LoggedPort(text, "started: grpc");
  const std::optional<int> metrics_port = LoggedPort(text, "\\(port \\d+\\), metrics");
  ASSERT_TRUE(grpc_port.has_value() && metrics_port.has_value()) << text;
  auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(*grpc_port), grpc::InsecureChannelCredentials()));
  auto recommend = [&](affinity::v1::RecommendRequest request) {
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };

  // Every user once (both arms get some), a user the models do not know
  // (fallback), and one request forcing the treatment arm.
  std::vector<affinity::v1::RecommendResponse> answers;
  std::map<std::string, int> per_arm;
  for (uint32_t u = 0; u < 40; ++u) {
    affinity::v1::RecommendRequest request;
    request.set_user_id(testing::TestModel::UserId(u));
    request.set_k(5);
    answers.push_back(recommend(request));
    ++per_arm[answers.back().arm()];
  }
  ASSERT_GT(per_arm["control"], 0);
  ASSERT_GT(per_arm["treatment"], 0);
  affinity::v1::RecommendRequest unknown;
  unknown.set_user_id("visitor-without-history");
  unknown.set_k(5);
  EXPECT_TRUE(recommend(unknown).fallback());
  affinity::v1::RecommendRequest forced;
  forced.set_user_id(testing::TestModel::UserId(0));
  forced.set_k(5);
  forced.set_arm("treatment");
  answers.push_back(recommend(forced));
  EXPECT_EQ(answers.back().arm(), "treatment");

  // Outcomes by request_id: two impressions per answer, a click on every
  // second answer, a conversion on every fourth.
  affinity::v1::ReportOutcomeRequest report;
  std::map<std::string, int> clicks;  // arm -> clicks, unforced
  const int64_t at = 1790000000000000;
  for (size_t a = 0; a < answers.size(); ++a) {
    const affinity::v1::RecommendResponse& answer = answers[a];
    ASSERT_GE(answer.items_size(), 2);
    auto add = [&](int item, affinity::v1::EventType event) {
      affinity::v1::OutcomeReport* o = report.add_outcomes();
      o->set_request_id(answer.request_id());
      o->set_item_id(answer.items(item).item_id());
      o->set_event(event);
      o->set_at_unix_micros(at + static_cast<int64_t>(a));
    };
    add(0, affinity::v1::IMPRESSION);
    add(1, affinity::v1::IMPRESSION);
    if (a % 2 == 0) {
      add(0, affinity::v1::CLICK);
      if (a + 1 < answers.size()) ++clicks[answer.arm()];
    }
    if (a % 4 == 0) add(0, affinity::v1::CONVERSION);
  }
  {
    affinity::v1::ReportOutcomeResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->ReportOutcome(&context, report, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.accepted(), report.outcomes_size());
    EXPECT_EQ(response.duplicates(), 0);
  }

  // Shadow scoring runs off the latency path: wait for its series.
  std::string metrics;
  for (int i = 0; i < 300; ++i) {
    metrics = testing::HttpGetBody(*metrics_port, "/metrics");
    if (metrics.find("affinity_shadow_requests_total{") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  absl::StatusOr<Exposition> scrape = testing::ParseExposition(metrics);
  ASSERT_TRUE(scrape.ok()) << scrape.status() << "\n" << metrics;

  // The series hold what was sent.
  EXPECT_EQ(
      SumOf(*scrape, "affinity_rollout_arm_basis_points", {{"arm", "treatment"}, {"version", "2"}}),
      5000);
  EXPECT_EQ(
      SumOf(*scrape, "affinity_rollout_arm_basis_points", {{"arm", "control"}, {"version", "1"}}),
      5000);
  EXPECT_EQ(SumOf(*scrape, "affinity_rollout_revision", {}), 1);
  for (const char* arm : {"control", "treatment"}) {
    EXPECT_EQ(SumOf(*scrape, "affinity_arm_outcomes_total",
                    {{"arm", arm}, {"forced", "false"}, {"event", "click"}}),
              clicks[arm])
        << arm;
  }
  EXPECT_EQ(SumOf(*scrape, "affinity_arm_requests_total",
                  {{"arm", "treatment"}, {"forced", "true"}, {"code", "OK"}}),
            1);
  EXPECT_GE(SumOf(*scrape, "affinity_shadow_requests_total", {{"version", "3"}}), 1);

  // Every query of the dashboard reads exported series.
  std::vector<std::string> problems;
  for (const DashboardQuery& query : *queries) {
    for (std::string& p : CheckQuery(query, *scrape)) problems.push_back(std::move(p));
  }
  // Every rollout family the server exports is on the dashboard.
  const std::set<std::string> used = DashboardMetrics(*queries);
  for (const auto& [family, type] : scrape->family_types) {
    if (!IsRolloutFamily(family)) continue;
    bool shown = false;
    for (const std::string& name : scrape->SampleNames(family)) shown = shown || used.count(name);
    if (!shown) problems.push_back(family + " (" + type + ") is exported but on no panel");
  }
  EXPECT_TRUE(problems.empty()) << absl::StrJoin(problems, "\n") << "\n\n/metrics:\n" << metrics;
  EXPECT_GE(queries->size(), 20u);

  stub.reset();  // an open channel would hold the server's drain for its full 5 s
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0);
}

}  // namespace
}  // namespace affinity::server
