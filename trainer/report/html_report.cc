#include "trainer/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/report/atomic_file.h"
#include "trainer/report/input_section.h"

namespace affinity {
namespace {

constexpr int kWidth = 560;
constexpr int kHeight = 260;
constexpr int kLeft = 64;
constexpr int kRight = 140;  // room for the legend
constexpr int kTop = 28;
constexpr int kBottom = 36;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                               "#ff7f0e", "#8c564b"};

std::string FormatTick(double v) { return absl::StrFormat("%.4g", v); }

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

}  // namespace

std::string RenderLineChartSvg(const std::string& title,
                               const std::vector<PlotSeries>& series) {
  double lo = INFINITY, hi = -INFINITY;
  size_t points = 0;
  for (const PlotSeries& s : series) {
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    points = std::max(points, s.values.size());
  }
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "role=\"img\" aria-label=\"%s\">\n<text x=\"%d\" y=\"18\" "
      "class=\"title\">%s</text>\n",
      kWidth, kHeight, HtmlEscape(title), kLeft, HtmlEscape(title));
  if (points == 0 || !std::isfinite(lo)) {
    absl::StrAppend(&svg, "<text x=\"", kLeft, "\" y=\"", kHeight / 2,
                    "\">no data</text>\n</svg>\n");
    return svg;
  }
  if (hi - lo < 1e-12) {  // flat line: give the axis some height
    const double pad = std::max(std::abs(hi) * 0.05, 1e-6);
    lo -= pad;
    hi += pad;
  }
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](size_t i) {
    return kLeft + (points == 1 ? plot_w / 2 : plot_w * i / (points - 1));
  };
  auto y_of = [&](double v) { return kTop + plot_h * (hi - v) / (hi - lo); };

  // Axes, y ticks (min, mid, max) and x ticks (first, last iteration).
  absl::StrAppendFormat(&svg,
                        "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" "
                        "fill=\"none\" stroke=\"#999\"/>\n",
                        kLeft, kTop, plot_w, plot_h);
  for (double v : {lo, (lo + hi) / 2, hi}) {
    absl::StrAppendFormat(&svg,
                          "<text x=\"%d\" y=\"%.1f\" class=\"tick\" "
                          "text-anchor=\"end\">%s</text>\n",
                          kLeft - 6, y_of(v) + 4, FormatTick(v));
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\">1</text>\n"
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                        "text-anchor=\"end\">%d</text>\n"
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                        "text-anchor=\"middle\">iteration</text>\n",
                        x_of(0), kHeight - 12, x_of(points - 1), kHeight - 12,
                        static_cast<int>(points), kLeft + plot_w / 2,
                        kHeight - 4);

  int color = 0;
  int legend_y = kTop + 10;
  for (const PlotSeries& s : series) {
    if (s.values.empty()) continue;
    const char* stroke = kColors[color++ % (sizeof(kColors) / sizeof(*kColors))];
    std::string path;
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      absl::StrAppendFormat(&path, "%s%.1f,%.1f", path.empty() ? "" : " ",
                            x_of(i), y_of(s.values[i]));
      absl::StrAppendFormat(&svg,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                            "fill=\"%s\"><title>%s %d: %s</title></circle>\n",
                            x_of(i), y_of(s.values[i]), stroke,
                            HtmlEscape(s.name), static_cast<int>(i + 1),
                            FormatTick(s.values[i]));
    }
    absl::StrAppendFormat(&svg,
                          "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                          "stroke-width=\"1.5\"/>\n"
                          "<text x=\"%d\" y=\"%d\" fill=\"%s\" "
                          "class=\"legend\">%s</text>\n",
                          path, stroke, kWidth - kRight + 8, legend_y, stroke,
                          HtmlEscape(s.name));
    legend_y += 16;
  }
  svg += "</svg>\n";
  return svg;
}

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
      ".tick{font-size:11px;fill:#555}\n"
      ".title{font-size:14px;font-weight:bold}.legend{font-size:12px}\n"
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
  html += RenderInputSectionHtml(report);
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
    if (live) columns.push_back(&report.live());
    columns.push_back(&report.popularity());
    if (report.has_puresvd() && report.puresvd().users_evaluated() > 0) {
      html += "<th>PureSVD</th>";
      columns.push_back(&report.puresvd());
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
    absl::StrAppendFormat(&html, "</table>\n<p>%.0f users evaluated.%s</p>\n",
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
  html += RenderLineChartSvg("training loss", {loss});
  if (sampled) {
    html += RenderLineChartSvg("sampled holdout metrics", {precision, ndcg, map});
  }
  html += RenderLineChartSvg("seconds per iteration", {seconds});

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
