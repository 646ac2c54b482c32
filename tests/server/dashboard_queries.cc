#include "tests/server/dashboard_queries.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace affinity::server::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string StringField(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kStringValue) return "";
  return it->second.string_value();
}

void AddLegendLabels(const std::string& format, std::vector<std::string>* labels) {
  static const std::regex kLabel(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
  for (std::sregex_iterator it(format.begin(), format.end(), kLabel), end; it != end; ++it) {
    labels->push_back((*it)[1]);
  }
}

void Walk(const Value& value, const std::string& path, std::vector<DashboardQuery>* out) {
  if (value.kind_case() == Value::kListValue) {
    const auto& list = value.list_value().values();
    for (int i = 0; i < list.size(); ++i) Walk(list[i], absl::StrCat(path, "[", i, "]"), out);
    return;
  }
  if (value.kind_case() != Value::kStructValue) return;
  const Struct& s = value.struct_value();
  const std::string expr = StringField(s, "expr");
  if (!expr.empty()) {
    DashboardQuery query;
    query.path = path;
    query.expr = expr;
    for (const char* key : {"legendFormat", "titleFormat", "textFormat"}) {
      AddLegendLabels(StringField(s, key), &query.output_labels);
    }
    out->push_back(std::move(query));
  }
  for (const auto& [key, child] : s.fields()) {
    if (path.empty() && key == "templating") continue;  // variables: below
    Walk(child, path.empty() ? key : absl::StrCat(path, ".", key), out);
  }
}

absl::Status AddVariables(const Struct& dashboard, std::vector<DashboardQuery>* out) {
  auto templating = dashboard.fields().find("templating");
  if (templating == dashboard.fields().end()) return absl::OkStatus();
  auto list = templating->second.struct_value().fields().find("list");
  if (list == templating->second.struct_value().fields().end()) return absl::OkStatus();
  static const std::regex kLabelValues(
      R"(^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)");
  const auto& variables = list->second.list_value().values();
  for (int i = 0; i < variables.size(); ++i) {
    const Struct& variable = variables[i].struct_value();
    const std::string path = absl::StrCat("templating.list[", i, "]");
    if (StringField(variable, "type") != "query") continue;
    std::string text = StringField(variable, "query");
    auto query = variable.fields().find("query");
    if (text.empty() && query != variable.fields().end() &&
        query->second.kind_case() == Value::kStructValue) {
      text = StringField(query->second.struct_value(), "query");
    }
    std::smatch m;
    if (!std::regex_match(text, m, kLabelValues)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".query: \"", text, "\", expected label_values(selector, label)"));
    }
    out->push_back(DashboardQuery{path, m[1], {m[2]}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Struct> ParseDashboardJson(absl::string_view json) {
  Struct dashboard;
  const auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &dashboard);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("dashboard JSON: ", status.ToString()));
  }
  return dashboard;
}

absl::StatusOr<std::vector<DashboardQuery>> DashboardQueries(const Struct& dashboard) {
  std::vector<DashboardQuery> out;
  Value root;
  *root.mutable_struct_value() = dashboard;
  Walk(root, "", &out);
  if (absl::Status s = AddVariables(dashboard, &out); !s.ok()) return s;
  return out;
}

}  // namespace affinity::server::testing
