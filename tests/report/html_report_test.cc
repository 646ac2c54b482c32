#include "trainer/report/html_report.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace affinity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

affinity::v1::TrainingReport SampleReport() {
  affinity::v1::TrainingReport report;
  report.set_version(7);
  report.set_algorithm("implicit_als_cg");
  report.set_k(10);
  report.set_users(610);
  report.set_items(9724);
  report.mutable_model()->set_precision_at_k(0.25);
  report.mutable_model()->set_users_evaluated(600);
  report.mutable_popularity()->set_precision_at_k(0.125);
  (*report.mutable_parameters())["factors"] = "64";
  (*report.mutable_parameters())["input"] = "<a&b>.csv";
  for (int i = 0; i < 3; ++i) {
    auto* it = report.add_iterations();
    it->set_iteration(i + 1);
    it->set_seconds(0.5);
    it->set_loss(3.0 - i);
    it->mutable_sampled()->set_precision_at_k(0.1 * (i + 1));
  }
  return report;
}

TEST(HtmlReport, PageHoldsParametersMetricsAndPlots) {
  const std::string html = RenderTrainingReportHtml(SampleReport());
  EXPECT_THAT(html, HasSubstr("model version 7"));
  EXPECT_THAT(html, HasSubstr("<td>0.2500</td><td>0.1250</td>"));
  EXPECT_THAT(html, HasSubstr("<th>factors</th><td>64</td>"));
  // Parameters are escaped, not injected.
  EXPECT_THAT(html, HasSubstr("&lt;a&amp;b&gt;.csv"));
  EXPECT_THAT(html, Not(HasSubstr("<a&b>")));
  EXPECT_THAT(html, HasSubstr("training loss"));
  EXPECT_THAT(html, HasSubstr("sampled holdout metrics"));
  // Self-contained: no scripts, no external resources.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://example")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
}

TEST(HtmlReport, ChartPlacesPointsByValue) {
  const std::string svg = RenderLineChartSvg("loss", {{"loss", {3, 2, 1}}});
  // Three points, highest value at the top (smallest y), lowest at bottom.
  size_t first = svg.find("<circle cx=");
  ASSERT_NE(first, std::string::npos);
  EXPECT_THAT(svg, HasSubstr("cy=\"28.0\""));   // 3 at the top edge
  EXPECT_THAT(svg, HasSubstr("cy=\"224.0\""));  // 1 at the bottom edge
  EXPECT_THAT(svg, HasSubstr("<polyline"));
}

TEST(HtmlReport, EmptyChartSaysNoData) {
  const std::string svg = RenderLineChartSvg("nothing", {{"loss", {}}});
  EXPECT_THAT(svg, HasSubstr("no data"));
  EXPECT_THAT(svg, Not(HasSubstr("<polyline")));
}

TEST(HtmlReport, WritesFile) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/report.html";
  ASSERT_TRUE(WriteTrainingReportHtml(SampleReport(), path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RenderTrainingReportHtml(SampleReport()));
}

TEST(HtmlReport, UnwritablePathIsAnError) {
  EXPECT_FALSE(
      WriteTrainingReportHtml(SampleReport(), "/nonexistent-dir/report.html").ok());
}

}  // namespace
}  // namespace affinity
