#include "trainer/report/data_section.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "trainer/report/html_escape.h"
#include "trainer/report/svg_charts.h"

namespace affinity {
namespace {

using affinity::v1::HistogramBin;
using Bins = google::protobuf::RepeatedPtrField<HistogramBin>;
using TopIds = google::protobuf::RepeatedPtrField<affinity::v1::IdCount>;

std::string Number(double v) { return absl::StrFormat("%.6g", v); }

std::string Timestamp(int64_t t) {
  if (t < 100000000 || t > 4000000000) return absl::StrCat(t);
  return absl::StrCat(t, " (",
                      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(t),
                                       absl::UTCTimeZone()),
                      ")");
}

std::string QuantilesRow(const std::string& what, const affinity::v1::Quantiles& q) {
  std::string row = absl::StrCat("<tr><th>", HtmlEscape(what), "</th>");
  for (double v : {q.count(), q.min(), q.p25(), q.median(), q.p75(), q.p90(), q.p99(), q.max()}) {
    absl::StrAppend(&row, "<td>", Number(v), "</td>");
  }
  absl::StrAppendFormat(&row, "<td>%.4g</td></tr>\n", q.mean());
  return row;
}

// "5", "16-31" (integer bins), "0.5-1.2" (equal-width bins of weights).
std::string BinLabel(const HistogramBin& b) {
  if (b.low() == b.high()) return Number(b.low());
  auto bound = [](double v) {
    return v == std::round(v) ? absl::StrFormat("%.0f", v) : absl::StrFormat("%.3g", v);
  };
  return absl::StrCat(bound(b.low()), "-", bound(b.high()));
}

std::string Histogram(const std::string& title, const std::string& series, const Bins& bins) {
  std::vector<BarGroup> groups;
  for (const HistogramBin& b : bins) groups.push_back({BinLabel(b), {b.count()}, {}});
  return RenderBarChartSvg(title, {series}, groups);
}

std::string TopTable(const std::string& what, const TopIds& top, double total) {
  std::string html = absl::StrCat("<table class=\"top\"><tr><th colspan=\"4\">", HtmlEscape(what),
                                  "</th></tr>\n<tr><th>#</th><th>id</th><th>interactions</th>"
                                  "<th>share</th></tr>\n");
  for (int i = 0; i < top.size(); ++i) {
    absl::StrAppendFormat(&html, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%.2f%%</td></tr>\n",
                          i + 1, HtmlEscape(top[i].id()), Number(top[i].interactions()),
                          total > 0 ? 100.0 * top[i].interactions() / total : 0.0);
  }
  return html + "</table>\n";
}

}  // namespace

std::string RenderDataSectionHtml(const affinity::v1::DataProfile& profile) {
  if (profile.columns() == 0 && profile.weights().count() == 0) return std::string();
  const bool weights = profile.columns() >= 3;
  const bool timestamps = profile.columns() >= 4;
  std::string html = "<h2>Data</h2>\n<h3>First rows as parsed</h3>\n<table>\n<tr><th>line</th>"
                     "<th>user</th><th>item</th>";
  if (weights) html += "<th>weight</th>";
  if (timestamps) html += "<th>timestamp</th>";
  html += "</tr>\n";
  for (const affinity::v1::ParsedRow& row : profile.first_rows()) {
    absl::StrAppend(&html, "<tr><td>", Number(row.line()), "</td><td>", HtmlEscape(row.user()),
                    "</td><td>", HtmlEscape(row.item()), "</td>");
    if (weights) absl::StrAppend(&html, "<td>", Number(row.weight()), "</td>");
    if (timestamps) absl::StrAppend(&html, "<td>", Timestamp(row.timestamp()), "</td>");
    html += "</tr>\n";
  }
  html += "</table>\n";

  const std::string weight_title =
      absl::StrCat("weights as trained (", weights ? "" : "1 per row, ",
                   "duplicates summed, --weight=", profile.weight_transform(), ")");
  absl::StrAppend(&html,
                  "<h3>Distributions</h3>\n<table>\n<tr><th></th><th>count</th><th>min</th>"
                  "<th>p25</th><th>median</th><th>p75</th><th>p90</th><th>p99</th><th>max</th>"
                  "<th>mean</th></tr>\n",
                  QuantilesRow(weight_title, profile.weights()),
                  QuantilesRow("interactions per user (distinct items)",
                               profile.interactions_per_user()),
                  QuantilesRow("interactions per item (distinct users)",
                               profile.interactions_per_item()),
                  "</table>\n<p>Quantiles by nearest rank: each is a value that occurs in the "
                  "data.</p>\n");
  html += Histogram(weight_title, "interactions", profile.weight_histogram());
  html += Histogram("users by their number of interactions", "users", profile.user_histogram());
  html += Histogram("items by their number of interactions", "items", profile.item_histogram());

  const double total = profile.weights().count();
  absl::StrAppend(&html, "<h3>Most active users and most popular items</h3>\n<div class=\"row\">",
                  TopTable("most active users", profile.top_users(), total),
                  TopTable("most popular items", profile.top_items(), total), "</div>\n");
  if (profile.has_timestamps()) {
    absl::StrAppend(&html, "<p>Timestamps from ", Timestamp(profile.first_timestamp()), " to ",
                    Timestamp(profile.last_timestamp()), ".</p>\n");
  }
  return html;
}

}  // namespace affinity
