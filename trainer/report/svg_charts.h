// Inline SVG charts for the HTML report: line charts over iterations and
// bar charts (grouped bars, or a histogram). Pure functions; thread-safe.
// Text is escaped. Value axes carry "nice" ticks (1, 2 or 5 times a power
// of ten) and span them; bar charts always start at zero, line charts when
// asked (LineChartOptions::y_from_zero), and a line chart whose axis does
// not start at zero says so under its title.
#ifndef AFFINITY_TRAINER_REPORT_SVG_CHARTS_H_
#define AFFINITY_TRAINER_REPORT_SVG_CHARTS_H_

#include <string>
#include <vector>

namespace affinity {

// One named series of y values, plotted against x = 1, 2, ...
struct PlotSeries {
  std::string name;
  std::vector<double> values;
};

struct LineChartOptions {
  // The y axis starts at 0 (for quantities such as metrics and seconds,
  // whose size a reader judges from the baseline). Values must then be
  // >= 0; a negative one extends the axis below 0.
  bool y_from_zero = false;
};

// An SVG line chart of the series on shared axes. Non-finite values are
// gaps; empty series are skipped; with no values at all the chart says
// "no data" instead of drawing axes.
std::string RenderLineChartSvg(const std::string& title,
                               const std::vector<PlotSeries>& series,
                               const LineChartOptions& options = {});

// The value axis of a chart: ticks from `low` to `high` by `step`.
struct AxisTicks {
  double low = 0;
  double high = 1;
  double step = 1;
};
// Nice ticks covering [lo, hi] in about `target` steps; a flat range is
// widened around its value. lo <= hi, both finite.
AxisTicks NiceTicks(double lo, double hi, int target = 4);

// One group of bars: one value per series (in the order of the series
// names), with optional error half-widths (empty, or one per value; 0 = no
// error bar).
struct BarGroup {
  std::string label;
  std::vector<double> values;
  std::vector<double> errors;
};

// An SVG bar chart whose value axis starts at 0: one cluster per group,
// one bar per series, a legend when there is more than one series. Each bar
// carries its value in a <title> tooltip. With no groups it says "no data".
std::string RenderBarChartSvg(const std::string& title,
                              const std::vector<std::string>& series_names,
                              const std::vector<BarGroup>& groups);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_SVG_CHARTS_H_
