// The Prometheus queries of a Grafana dashboard (its JSON model, read with
// protobuf's JSON parser into a google.protobuf.Struct): every object's
// "expr" wherever it is (panel targets, panels nested in rows,
// annotations), and every query variable's label_values(selector, label).
// Each query comes with the labels its output names: {{label}} in
// legendFormat / titleFormat / textFormat, or label_values' label.
// Errors: InvalidArgument naming the JSON path. Pure, thread-safe.
#ifndef AFFINITY_TESTS_SERVER_DASHBOARD_QUERIES_H_
#define AFFINITY_TESTS_SERVER_DASHBOARD_QUERIES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace affinity::server::testing {

struct DashboardQuery {
  std::string path;  // e.g. "panels[4].targets[1]", "templating.list[0]"
  std::string expr;  // PromQL
  std::vector<std::string> output_labels;
};

// The whole file as a Struct; InvalidArgument with protobuf's message.
absl::StatusOr<google::protobuf::Struct> ParseDashboardJson(absl::string_view json);

absl::StatusOr<std::vector<DashboardQuery>> DashboardQueries(
    const google::protobuf::Struct& dashboard);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_DASHBOARD_QUERIES_H_
