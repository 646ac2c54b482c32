#include "trainer/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/report/atomic_file.h"
#include "trainer/report/baseline_warning.h"
#include "trainer/report/data_section.h"
#include "trainer/report/input_section.h"
#include "trainer/report/svg_charts.h"

namespace affinity {
namespace {

// A value, with "± half-width" when its confidence interval is known.
std::string MetricCell(double value, double ci95) {
  if (ci95 > 0) return absl::StrFormat("<td>%.4f &plusmn;%.4f</td>", value, ci95);
  return absl::StrFormat("<td>%.4f</td>", value);
}

using RankingMetricsProto = affinity::v1::RankingMetrics;
using Field = double (*)(const RankingMetricsProto&);

// One row of the holdout table: the metric read from each column, with its
// half-width when `ci95` is given.
std::string MetricRow(const std::string& name,
                      const std::vector<const RankingMetricsProto*>& columns,
                      Field value, Field ci95) {
  std::string row = absl::StrCat("<tr><td>", name, "</td>");
  for (const RankingMetricsProto* m : columns) {
    row += MetricCell(value(*m), ci95 ? ci95(*m) : 0);
  }
  row += "</tr>\n";
  return row;
}

// The ranking metrics of every column as bars from 0, with their 95%
// intervals as whiskers.
std::string HoldoutBarChart(int k, const std::vector<std::string>& names,
                            const std::vector<const RankingMetricsProto*>& columns) {
  struct Metric {
    const char* name;
    Field value;
    Field ci95;
  };
  using M = RankingMetricsProto;
  const Metric metrics[] = {
      {"precision", [](const M& m) { return m.precision_at_k(); },
       [](const M& m) { return m.precision_at_k_ci95(); }},
      {"recall", [](const M& m) { return m.recall_at_k(); },
       [](const M& m) { return m.recall_at_k_ci95(); }},
      {"ndcg", [](const M& m) { return m.ndcg_at_k(); },
       [](const M& m) { return m.ndcg_at_k_ci95(); }},
      {"map", [](const M& m) { return m.map_at_k(); },
       [](const M& m) { return m.map_at_k_ci95(); }},
  };
  std::vector<BarGroup> groups;
  for (const Metric& metric : metrics) {
    BarGroup group;
    group.label = absl::StrCat(metric.name, "@", k);
    for (const M* m : columns) {
      group.values.push_back(metric.value(*m));
      group.errors.push_back(metric.ci95(*m));
    }
    groups.push_back(std::move(group));
  }
  return RenderBarChartSvg(absl::StrCat("holdout metrics at k = ", k), names, groups);
}

}  // namespace

std::string RenderTrainingReportHtml(const affinity::v1::TrainingReport& report) {
  PlotSeries loss{"loss", {}}, seconds{"seconds", {}};
  PlotSeries precision{absl::StrCat("precision@", report.k()), {}};
  PlotSeries ndcg{absl::StrCat("ndcg@", report.k()), {}};
  PlotSeries map{absl::StrCat("map@", report.k()), {}};
  bool sampled = false;
  for (const auto& it : report.iterations()) {
    loss.values.push_back(it.loss());
    seconds.values.push_back(it.seconds());
    if (it.has_sampled()) {
      sampled = true;
      precision.values.push_back(it.sampled().precision_at_k());
      ndcg.values.push_back(it.sampled().ndcg_at_k());
      map.values.push_back(it.sampled().map_at_k());
    } else {
      precision.values.push_back(NAN);
      ndcg.values.push_back(NAN);
      map.values.push_back(NAN);
    }
  }

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>affinity training report</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}\n"
      "td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}\n"
      "svg{display:block;margin:1em 0}\n"
      ".row{display:flex;gap:2em;align-items:flex-start}\n"
      ".tick{font-size:11px;fill:#555}\n"
      ".title{font-size:14px;font-weight:bold}.legend{font-size:12px}\n"
      ".warning{background:#fff3cd;border:2px solid #d9a400;padding:0.8em 1em;"
      "margin:1em 0;font-weight:bold}\n"
      "</style></head><body>\n";
  absl::StrAppend(&html, "<h1>affinity training report</h1>\n<p>",
                  HtmlEscape(report.algorithm()), ", ",
                  report.version() ? absl::StrCat("model version ", report.version())
                                   : std::string("not published"),
                  report.started_at().empty()
                      ? std::string()
                      : absl::StrCat(", run started ", HtmlEscape(report.started_at()),
                                     " (UTC)"),
                  "</p>\n");
  if (const std::optional<std::string> warning = MostPopularWarning(report)) {
    absl::StrAppend(&html, "<div class=\"warning\" role=\"alert\">Warning: ",
                    HtmlEscape(*warning), ".</div>\n");
  }
  absl::StrAppendFormat(
      &html,
      "<table><tr><th>users</th><td>%.0f</td></tr><tr><th>items</th><td>%.0f</td></tr>"
      "<tr><th>training interactions</th><td>%.0f</td></tr>"
      "<tr><th>held-out interactions</th><td>%.0f</td></tr>"
      "<tr><th>seconds per iteration (median)</th><td>%.3f</td></tr>"
      "<tr><th>training seconds</th><td>%.2f</td></tr>"
      "<tr><th>ingest</th><td>%.2f s, %.1f MB/s</td></tr>"
      "<tr><th>peak RSS</th><td>%.1f MB</td></tr></table>\n",
      report.users(), report.items(), report.nnz(), report.heldout_nnz(),
      report.seconds_per_iteration(), report.train_seconds(),
      report.ingest_seconds(), report.ingest_mb_per_s(),
      report.peak_rss_bytes() / 1e6);
  html += RenderInputSectionHtml(report);
  html += RenderDataSectionHtml(report.data());

  if (!report.outcome().empty()) {
    // A nightly run: what happened, and on which data.
    absl::StrAppend(&html, "<h2>Nightly run: ", HtmlEscape(report.outcome()),
                    "</h2>\n<table><tr><th>comparison</th><td>",
                    HtmlEscape(report.comparison()), "</td></tr><tr><th>gate</th><td>",
                    HtmlEscape(report.gate().metric()), " ",
                    HtmlEscape(affinity::v1::GateRecord::Outcome_Name(report.gate().outcome())),
                    report.gate().live_version()
                        ? absl::StrFormat(": %.4f vs %.4f for live version %d (difference "
                                          "%+.4f, 95%% interval %+.4f .. %+.4f, tolerance %.4f)",
                                          report.gate().candidate_value(),
                                          report.gate().live_value(),
                                          report.gate().live_version(),
                                          report.gate().difference(),
                                          report.gate().difference_ci_low(),
                                          report.gate().difference_ci_high(),
                                          report.gate().tolerance())
                        : std::string(),
                    "</td></tr><tr><th>published vectors trained on</th><td>",
                    HtmlEscape(report.trained_on()), "</td></tr></table>\n");
  }
  if (report.model().users_evaluated() > 0) {
    const bool live = report.live_version() > 0 && report.live().users_evaluated() > 0;
    absl::StrAppend(&html, "<h2>Holdout metrics at k = ", report.k(),
                    "</h2>\n<table><tr><th>metric</th><th>",
                    report.outcome().empty() ? "model" : "candidate", "</th>",
                    live ? absl::StrCat("<th>live version ", report.live_version(), "</th>")
                         : std::string(),
                    "<th>most popular</th>");
    std::vector<const RankingMetricsProto*> columns = {&report.model()};
    std::vector<std::string> column_names = {report.outcome().empty() ? "model" : "candidate"};
    if (live) {
      columns.push_back(&report.live());
      column_names.push_back(absl::StrCat("live version ", report.live_version()));
    }
    columns.push_back(&report.popularity());
    column_names.push_back("most popular");
    if (report.has_puresvd() && report.puresvd().users_evaluated() > 0) {
      html += "<th>PureSVD</th>";
      columns.push_back(&report.puresvd());
      column_names.push_back("PureSVD");
    }
    html += "</tr>\n";
    using M = RankingMetricsProto;
    html += MetricRow(
        "precision@k", columns, [](const M& m) { return m.precision_at_k(); },
        [](const M& m) { return m.precision_at_k_ci95(); });
    html += MetricRow(
        "recall@k", columns, [](const M& m) { return m.recall_at_k(); },
        [](const M& m) { return m.recall_at_k_ci95(); });
    html += MetricRow(
        "ndcg@k", columns, [](const M& m) { return m.ndcg_at_k(); },
        [](const M& m) { return m.ndcg_at_k_ci95(); });
    html += MetricRow(
        "map@k", columns, [](const M& m) { return m.map_at_k(); },
        [](const M& m) { return m.map_at_k_ci95(); });
    html += MetricRow(
        "coverage@k", columns, [](const M& m) { return m.coverage_at_k(); },
        nullptr);
    bool intervals = false;
    for (const M* m : columns) {
      intervals = intervals || m->precision_at_k_ci95() > 0 ||
                  m->recall_at_k_ci95() > 0 || m->ndcg_at_k_ci95() > 0 ||
                  m->map_at_k_ci95() > 0;
    }
    html += "</table>\n";
    html += HoldoutBarChart(report.k(), column_names, columns);
    absl::StrAppendFormat(&html, "<p>%.0f users evaluated.%s</p>\n",
                          report.model().users_evaluated(),
                          intervals ? " &plusmn; is the half-width of the 95% "
                                      "confidence interval over users."
                                    : "");
    if (report.has_model_ratings() &&
        report.model_ratings().ratings_evaluated() > 0) {
      const auto& r = report.model_ratings();
      absl::StrAppend(&html,
                      "<h2>Rating accuracy</h2>\n<table><tr><th>metric</th>"
                      "<th>model</th></tr>\n<tr><td>RMSE</td>",
                      MetricCell(r.rmse(), r.rmse_ci95()),
                      "</tr>\n<tr><td>MAE</td>", MetricCell(r.mae(), r.mae_ci95()),
                      "</tr>\n</table>\n");
      absl::StrAppendFormat(&html,
                            "<p>%.0f held-out ratings; &plusmn; is the "
                            "half-width of the 95%% confidence interval.</p>\n",
                            r.ratings_evaluated());
    }
  } else {
    html += "<p>No holdout evaluation (--holdout=0).</p>\n";
  }

  html += "<h2>Per iteration</h2>\n";
  // Loss is drawn over its own range (its level depends on the
  // regularization; its descent is what matters), metrics and seconds from 0.
  html += RenderLineChartSvg("training loss", {loss});
  LineChartOptions from_zero;
  from_zero.y_from_zero = true;
  if (sampled) {
    html += RenderLineChartSvg("sampled holdout metrics", {precision, ndcg, map}, from_zero);
  }
  html += RenderLineChartSvg("seconds per iteration", {seconds}, from_zero);

  html += "<h2>Parameters</h2>\n<table>\n";
  std::map<std::string, std::string> params(report.parameters().begin(),
                                            report.parameters().end());
  for (const auto& [name, value] : params) {
    absl::StrAppend(&html, "<tr><th>", HtmlEscape(name), "</th><td>",
                    HtmlEscape(value), "</td></tr>\n");
  }
  html += "</table>\n</body></html>\n";
  return html;
}

absl::Status WriteTrainingReportHtml(const affinity::v1::TrainingReport& report,
                                     const std::string& path) {
  return WriteFileAtomically(path, RenderTrainingReportHtml(report));
}

}  // namespace affinity
