#include "trainer/report/svg_charts.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/report/html_escape.h"

namespace affinity {
namespace {

constexpr int kWidth = 560;
constexpr int kHeight = 260;
constexpr int kLeft = 64;
constexpr int kRight = 140;  // room for the legend
constexpr int kTop = 28;
constexpr int kBottom = 36;
constexpr double kPlotW = kWidth - kLeft - kRight;
constexpr double kPlotH = kHeight - kTop - kBottom;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                               "#ff7f0e", "#8c564b"};

const char* Color(size_t i) { return kColors[i % (sizeof(kColors) / sizeof(*kColors))]; }

// Integers in full (30000, not 3e+04), other values to 4 significant digits.
std::string FormatTick(double v) {
  if (std::abs(v) < 1e-12) return "0";
  if (std::abs(v) < 1e15 && v == std::round(v)) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.4g", v);
}

std::string Header(const std::string& title) {
  return absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "role=\"img\" aria-label=\"%s\">\n<text x=\"%d\" y=\"18\" "
      "class=\"title\">%s</text>\n",
      kWidth, kHeight, HtmlEscape(title), kLeft, HtmlEscape(title));
}

std::string NoData(std::string svg) {
  absl::StrAppend(&svg, "<text x=\"", kLeft, "\" y=\"", kHeight / 2,
                  "\">no data</text>\n</svg>\n");
  return svg;
}

// The plot frame and the value axis's ticks and grid lines.
void AppendFrameAndTicks(const AxisTicks& axis, std::string* svg) {
  absl::StrAppendFormat(svg,
                        "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" "
                        "fill=\"none\" stroke=\"#999\"/>\n",
                        kLeft, kTop, kPlotW, kPlotH);
  const int steps = static_cast<int>(std::lround((axis.high - axis.low) / axis.step));
  for (int i = 0; i <= steps; ++i) {
    const double v = axis.low + i * axis.step;
    const double y = kTop + kPlotH * (axis.high - v) / (axis.high - axis.low);
    absl::StrAppendFormat(svg,
                          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                          "stroke=\"#eee\"/>\n<text x=\"%d\" y=\"%.1f\" "
                          "class=\"tick\" text-anchor=\"end\">%s</text>\n",
                          kLeft, y, kLeft + kPlotW, y, kLeft - 6, y + 4, FormatTick(v));
  }
}

void AppendLegend(size_t index, const std::string& name, std::string* svg) {
  absl::StrAppendFormat(svg, "<text x=\"%d\" y=\"%d\" fill=\"%s\" class=\"legend\">%s</text>\n",
                        kWidth - kRight + 8, kTop + 10 + 16 * static_cast<int>(index),
                        Color(index), HtmlEscape(name));
}

}  // namespace

AxisTicks NiceTicks(double lo, double hi, int target) {
  if (hi - lo < 1e-12) {  // flat: give the axis some height
    const double pad = std::max(std::abs(hi) * 0.05, 1e-6);
    lo = lo == 0 ? 0 : lo - pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw * (1 - 1e-9)) break;
  }
  AxisTicks axis;
  axis.step = step;
  // The small tolerance keeps a bound that is already a tick (up to
  // rounding) from growing a step.
  axis.low = std::floor(lo / step + 1e-9) * step;
  axis.high = std::ceil(hi / step - 1e-9) * step;
  return axis;
}

std::string RenderLineChartSvg(const std::string& title,
                               const std::vector<PlotSeries>& series,
                               const LineChartOptions& options) {
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
  std::string svg = Header(title);
  if (points == 0 || !std::isfinite(lo)) return NoData(std::move(svg));
  if (options.y_from_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  const AxisTicks axis = NiceTicks(lo, hi);
  auto x_of = [&](size_t i) {
    return kLeft + (points == 1 ? kPlotW / 2 : kPlotW * i / (points - 1));
  };
  auto y_of = [&](double v) {
    return kTop + kPlotH * (axis.high - v) / (axis.high - axis.low);
  };
  AppendFrameAndTicks(axis, &svg);
  if (axis.low > 0) {
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.0f\" y=\"%d\" class=\"tick\" text-anchor=\"end\">"
                          "axis starts at %s, not 0</text>\n",
                          kLeft + kPlotW, kTop - 6, FormatTick(axis.low));
  }
  // x ticks: first and last iteration.
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\">1</text>\n"
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                        "text-anchor=\"end\">%d</text>\n"
                        "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                        "text-anchor=\"middle\">iteration</text>\n",
                        x_of(0), kHeight - 12, x_of(points - 1), kHeight - 12,
                        static_cast<int>(points), kLeft + kPlotW / 2, kHeight - 4);

  size_t color = 0;
  for (const PlotSeries& s : series) {
    if (s.values.empty()) continue;
    const char* stroke = Color(color);
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
                          "stroke-width=\"1.5\"/>\n",
                          path, stroke);
    AppendLegend(color, s.name, &svg);
    ++color;
  }
  svg += "</svg>\n";
  return svg;
}

std::string RenderBarChartSvg(const std::string& title,
                              const std::vector<std::string>& series_names,
                              const std::vector<BarGroup>& groups) {
  std::string svg = Header(title);
  const size_t bars = series_names.size();
  if (groups.empty() || bars == 0) return NoData(std::move(svg));
  double lo = 0, hi = 0;
  for (const BarGroup& g : groups) {
    for (size_t b = 0; b < g.values.size(); ++b) {
      if (!std::isfinite(g.values[b])) continue;
      const double e = b < g.errors.size() ? g.errors[b] : 0;
      lo = std::min(lo, g.values[b]);
      hi = std::max(hi, g.values[b] + e);
    }
  }
  const AxisTicks axis = NiceTicks(lo, hi);
  auto y_of = [&](double v) {
    return kTop + kPlotH * (axis.high - v) / (axis.high - axis.low);
  };
  AppendFrameAndTicks(axis, &svg);
  const double group_w = kPlotW / groups.size();
  const double bar_w = group_w * 0.8 / bars;
  // Label every group when they fit, else about eight of them.
  const size_t label_every = std::max<size_t>(1, (groups.size() + 7) / 8);
  for (size_t g = 0; g < groups.size(); ++g) {
    const double x0 = kLeft + g * group_w + group_w * 0.1;
    for (size_t b = 0; b < bars && b < groups[g].values.size(); ++b) {
      const double v = groups[g].values[b];
      if (!std::isfinite(v)) continue;
      const double top = y_of(std::max(v, 0.0)), bottom = y_of(std::min(v, 0.0));
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                            "fill=\"%s\"><title>%s %s: %s</title></rect>\n",
                            x0 + b * bar_w, top, std::max(bar_w - 1, 0.5), bottom - top,
                            Color(b), HtmlEscape(groups[g].label), HtmlEscape(series_names[b]),
                            absl::StrFormat("%.6g", v));
      const double e = b < groups[g].errors.size() ? groups[g].errors[b] : 0;
      if (e > 0) {
        const double cx = x0 + (b + 0.5) * bar_w;
        absl::StrAppendFormat(&svg,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#333\"/>\n",
                              cx, y_of(v + e), cx, y_of(std::max(v - e, axis.low)));
      }
    }
    if (g % label_every == 0) {
      absl::StrAppendFormat(&svg,
                            "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                            "text-anchor=\"middle\">%s</text>\n",
                            kLeft + (g + 0.5) * group_w, kHeight - 18,
                            HtmlEscape(groups[g].label));
    }
  }
  if (bars > 1) {
    for (size_t b = 0; b < bars; ++b) AppendLegend(b, series_names[b], &svg);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace affinity
