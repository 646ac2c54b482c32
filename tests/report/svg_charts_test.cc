#include "trainer/report/svg_charts.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace affinity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NiceTicks, StepsOfOneTwoOrFiveTimesAPowerOfTen) {
  AxisTicks a = NiceTicks(0, 0.137);
  EXPECT_DOUBLE_EQ(a.low, 0);
  EXPECT_DOUBLE_EQ(a.step, 0.05);
  EXPECT_DOUBLE_EQ(a.high, 0.15);
  a = NiceTicks(1, 3);
  EXPECT_DOUBLE_EQ(a.low, 1);
  EXPECT_DOUBLE_EQ(a.step, 0.5);
  EXPECT_DOUBLE_EQ(a.high, 3);
  a = NiceTicks(0.0270, 0.0558);
  EXPECT_DOUBLE_EQ(a.step, 0.01);
  EXPECT_NEAR(a.low, 0.02, 1e-12);
  EXPECT_NEAR(a.high, 0.06, 1e-12);
  a = NiceTicks(0, 2698);
  EXPECT_DOUBLE_EQ(a.step, 1000);
  EXPECT_DOUBLE_EQ(a.high, 3000);
  // A flat range gets some height; a flat zero stays at zero.
  a = NiceTicks(5, 5);
  EXPECT_LT(a.low, 5);
  EXPECT_GT(a.high, 5);
  a = NiceTicks(0, 0);
  EXPECT_DOUBLE_EQ(a.low, 0);
  EXPECT_GT(a.high, 0);
}

TEST(LineChart, LossSpansItsRangeAndSaysSo) {
  const std::string svg = RenderLineChartSvg("loss", {{"loss", {3, 2, 1}}});
  EXPECT_THAT(svg, HasSubstr("cy=\"28.0\""));   // 3 at the top edge
  EXPECT_THAT(svg, HasSubstr("cy=\"224.0\""));  // 1 at the bottom edge
  EXPECT_THAT(svg, HasSubstr("axis starts at 1, not 0"));
}

TEST(LineChart, FromZeroPutsZeroAtTheBottom) {
  LineChartOptions options;
  options.y_from_zero = true;
  // 0.1 .. 0.12 on an axis 0 .. 0.15: 0.12 sits at 28 + 196 * 0.03 / 0.15.
  const std::string svg =
      RenderLineChartSvg("ndcg", {{"ndcg@10", {0.1, 0.11, 0.12}}}, options);
  EXPECT_THAT(svg, HasSubstr(">0</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.15</text>"));
  EXPECT_THAT(svg, HasSubstr("cy=\"67.2\""));
  EXPECT_THAT(svg, Not(HasSubstr("not 0")));
}

TEST(LineChart, EmptyChartSaysNoData) {
  const std::string svg = RenderLineChartSvg("nothing", {{"loss", {}}});
  EXPECT_THAT(svg, HasSubstr("no data"));
  EXPECT_THAT(svg, Not(HasSubstr("<polyline")));
}

TEST(BarChart, BarsStandOnZero) {
  // Axis 0 .. 4 (step 1) over a plot 196 px high from y = 28: a bar of 2
  // is 98 px high and ends at the bottom edge, 224.
  const std::string svg =
      RenderBarChartSvg("counts", {"users"}, {{"1", {2}, {}}, {"2-3", {4}, {}}});
  EXPECT_THAT(svg, HasSubstr("y=\"126.0\" width="));
  EXPECT_THAT(svg, HasSubstr("height=\"98.0\""));
  EXPECT_THAT(svg, HasSubstr("height=\"196.0\""));
  EXPECT_THAT(svg, HasSubstr("<title>2-3 users: 4</title>"));
  // One series: no legend.
  EXPECT_THAT(svg, Not(HasSubstr("class=\"legend\"")));
}

TEST(BarChart, GroupsWithLegendAndErrorBars) {
  const std::string svg = RenderBarChartSvg(
      "metrics", {"model", "most popular"},
      {{"ndcg@10", {0.3, 0.2}, {0.05, 0}}, {"p@10", {0.1, 0.12}, {}}});
  EXPECT_THAT(svg, HasSubstr(">model</text>"));
  EXPECT_THAT(svg, HasSubstr(">most popular</text>"));
  EXPECT_THAT(svg, HasSubstr("<title>ndcg@10 model: 0.3</title>"));
  // One whisker: the model's ndcg interval.
  const size_t first = svg.find("stroke=\"#333\"");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(svg.find("stroke=\"#333\"", first + 1), std::string::npos);
  EXPECT_THAT(RenderBarChartSvg("none", {"a"}, {}), HasSubstr("no data"));
}

}  // namespace
}  // namespace affinity
