// The readers behind //tests/server:rollout_dashboard_test on hand-written
// input: PromQL references, the Prometheus text format and a dashboard's
// queries.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/dashboard_queries.h"
#include "tests/server/exposition.h"
#include "tests/server/promql_refs.h"

namespace affinity::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Metrics(const PromqlRefs& refs) {
  std::vector<std::string> out;
  for (const SeriesSelector& s : refs.selectors) out.push_back(s.metric);
  return out;
}

TEST(PromqlRefsTest, FindsMetricsUnderFunctionsAggregationsAndOperators) {
  absl::StatusOr<PromqlRefs> refs = ParsePromqlRefs(
      "100 * sum by (arm) (rate(a_total{job=~\"$job\",forced=\"false\"}[$__rate_interval]))"
      " / scalar(sum(rate(b_total[5m] offset 1h)))");
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_THAT(Metrics(*refs), ElementsAre("a_total", "b_total"));
  EXPECT_THAT(refs->grouping_labels, ElementsAre("arm"));
  ASSERT_EQ(refs->selectors[0].matchers.size(), 2u);
  EXPECT_EQ(refs->selectors[0].matchers[0].label, "job");
  EXPECT_EQ(refs->selectors[0].matchers[0].op, "=~");
  EXPECT_EQ(refs->selectors[0].matchers[0].value, "$job");
  EXPECT_EQ(refs->selectors[0].matchers[1].label, "forced");
  EXPECT_EQ(refs->selectors[0].matchers[1].op, "=");
  EXPECT_EQ(refs->selectors[0].matchers[1].value, "false");
  EXPECT_THAT(refs->selectors[1].matchers, IsEmpty());
}

TEST(PromqlRefsTest, HistogramQuantileAndTrailingGroupingClauses) {
  absl::StatusOr<PromqlRefs> refs = ParsePromqlRefs(
      "histogram_quantile(0.99, sum(rate(h_seconds_bucket{a!=\"x\"}[1m])) by (le, arm))"
      " > bool on (arm) group_left (version) max without (code) (g)");
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_THAT(Metrics(*refs), ElementsAre("h_seconds_bucket", "g"));
  EXPECT_THAT(refs->grouping_labels, ElementsAre("arm", "code", "le", "version"));
  EXPECT_EQ(refs->selectors[0].matchers[0].op, "!=");
}

TEST(PromqlRefsTest, StringsVariablesAndNumbersAreNotMetrics) {
  absl::StatusOr<PromqlRefs> refs = ParsePromqlRefs(
      "label_replace(m{l='it\\'s'}, \"dst\", \"$1\", \"src\", \"(.*)\") * 1e3 + ${factor} - inf"
      " and on() vector(0) # a comment naming not_a_metric\n");
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_THAT(Metrics(*refs), ElementsAre("m"));
  EXPECT_EQ(refs->selectors[0].matchers[0].value, "it's");
}

TEST(PromqlRefsTest, ANameMatcherNamesTheMetric) {
  absl::StatusOr<PromqlRefs> refs = ParsePromqlRefs("{__name__=\"x_total\", a=\"b\"}");
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_THAT(Metrics(*refs), ElementsAre("x_total"));
}

TEST(PromqlRefsTest, MalformedExpressionsAreNamed) {
  EXPECT_THAT(ParsePromqlRefs("rate(x[5m)").status().message(), HasSubstr("'[' without ']'"));
  EXPECT_THAT(ParsePromqlRefs("x{a=\"b}").status().message(), HasSubstr("unterminated string"));
  EXPECT_THAT(ParsePromqlRefs("x{a b}").status().message(), HasSubstr("expected =, !=, =~ or !~"));
  EXPECT_THAT(ParsePromqlRefs("x{a=b}").status().message(), HasSubstr("quoted label value"));
  EXPECT_THAT(ParsePromqlRefs("{a=\"b\"}").status().message(), HasSubstr("without a metric name"));
  EXPECT_THAT(ParsePromqlRefs("sum by (a").status().message(), HasSubstr("without ')'"));
}

TEST(ExpositionTest, ReadsFamiliesSamplesLabelsAndValues) {
  absl::StatusOr<Exposition> e = ParseExposition(
      "# HELP h Time.\n# TYPE h histogram\n"
      "h_bucket{arm=\"control\",le=\"0.1\"} 3\nh_bucket{arm=\"control\",le=\"+Inf\"} 4\n"
      "h_sum{arm=\"control\"} 0.25\nh_count{arm=\"control\"} 4\n"
      "# TYPE c counter\nc{path=\"a\\\"b\\\\c\"} 7 1700000000000\n# TYPE g gauge\ng NaN\ni -Inf\n");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->family_types.at("h"), "histogram");
  EXPECT_EQ(e->family_types.at("c"), "counter");
  ASSERT_EQ(e->samples.size(), 7u);
  EXPECT_EQ(e->samples[0].name, "h_bucket");
  EXPECT_EQ(e->samples[0].labels.at("le"), "0.1");
  EXPECT_EQ(e->samples[0].value, 3);
  EXPECT_EQ(e->samples[1].labels.at("le"), "+Inf");
  EXPECT_EQ(e->samples[1].value, 4);
  EXPECT_EQ(e->samples[2].value, 0.25);
  EXPECT_EQ(e->samples[4].labels.at("path"), "a\"b\\c");
  EXPECT_EQ(e->samples[4].value, 7);
  EXPECT_TRUE(std::isnan(e->samples[5].value));
  EXPECT_TRUE(std::isinf(e->samples[6].value) && e->samples[6].value < 0);
  EXPECT_THAT(e->SampleNames("h"), ElementsAre("h_bucket", "h_sum", "h_count"));
  EXPECT_THAT(e->SampleNames("c"), ElementsAre("c"));
}

TEST(ExpositionTest, MalformedLinesAreNamed) {
  EXPECT_THAT(ParseExposition("a 1\nb{x=\"1 2\n").status().message(),
              HasSubstr("line 2: unterminated label value"));
  EXPECT_THAT(ParseExposition("a{x=1} 2\n").status().message(),
              HasSubstr("line 1: label x: expected =\"value\""));
  EXPECT_THAT(ParseExposition("a one\n").status().message(), HasSubstr("line 1: expected a value"));
  EXPECT_THAT(ParseExposition("a{x=\"1\",x=\"2\"} 1\n").status().message(),
              HasSubstr("label x given twice"));
}

TEST(DashboardQueriesTest, FindsTargetsNestedPanelsAnnotationsAndVariables) {
  absl::StatusOr<google::protobuf::Struct> dashboard = ParseDashboardJson(R"json({
    "annotations": {"list": [{"expr": "changes(r[2m]) > 0", "titleFormat": "on {{instance}}"}]},
    "panels": [
      {"type": "timeseries", "targets": [{"expr": "rate(a[1m])", "legendFormat": "{{arm}} {{ code }}"}]},
      {"type": "row", "panels": [{"targets": [{"expr": "b", "legendFormat": "x"}]}]}
    ],
    "templating": {"list": [
      {"type": "query", "name": "job", "query": {"query": "label_values(r, job)", "refId": "A"}},
      {"type": "query", "name": "i", "query": "label_values(r{job=~\"$job\"}, instance)"},
      {"type": "interval", "name": "w", "query": "5m,1h"}
    ]}
  })json");
  ASSERT_TRUE(dashboard.ok()) << dashboard.status();
  absl::StatusOr<std::vector<DashboardQuery>> queries = DashboardQueries(*dashboard);
  ASSERT_TRUE(queries.ok()) << queries.status();
  std::map<std::string, DashboardQuery> by_path;
  for (const DashboardQuery& q : *queries) by_path[q.path] = q;
  ASSERT_EQ(by_path.size(), 5u);
  EXPECT_EQ(by_path.at("annotations.list[0]").expr, "changes(r[2m]) > 0");
  EXPECT_THAT(by_path.at("annotations.list[0]").output_labels, ElementsAre("instance"));
  EXPECT_EQ(by_path.at("panels[0].targets[0]").expr, "rate(a[1m])");
  EXPECT_THAT(by_path.at("panels[0].targets[0]").output_labels, ElementsAre("arm", "code"));
  EXPECT_EQ(by_path.at("panels[1].panels[0].targets[0]").expr, "b");
  EXPECT_EQ(by_path.at("templating.list[0]").expr, "r");
  EXPECT_THAT(by_path.at("templating.list[0]").output_labels, ElementsAre("job"));
  EXPECT_EQ(by_path.at("templating.list[1]").expr, "r{job=~\"$job\"}");
  EXPECT_THAT(by_path.at("templating.list[1]").output_labels, ElementsAre("instance"));
}

TEST(DashboardQueriesTest, RejectsBadJsonAndUnknownVariableQueries) {
  EXPECT_THAT(ParseDashboardJson("{\"panels\": [}").status().message(),
              HasSubstr("dashboard JSON"));
  absl::StatusOr<google::protobuf::Struct> dashboard = ParseDashboardJson(
      R"json({"templating": {"list": [{"type": "query", "query": "query_result(up)"}]}})json");
  ASSERT_TRUE(dashboard.ok());
  EXPECT_THAT(DashboardQueries(*dashboard).status().message(),
              HasSubstr("templating.list[0].query: \"query_result(up)\", expected label_values"));
}

}  // namespace
}  // namespace affinity::server::testing
