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

TEST(HtmlReport, WithoutIntervalsOrPureSvdShowsTwoPlainColumns) {
  const std::string html = RenderTrainingReportHtml(SampleReport());
  EXPECT_THAT(html, HasSubstr("<th>model</th><th>most popular</th></tr>"));
  EXPECT_THAT(html, Not(HasSubstr("PureSVD")));
  EXPECT_THAT(html, Not(HasSubstr("&plusmn;")));
  EXPECT_THAT(html, Not(HasSubstr("Rating accuracy")));
}

TEST(HtmlReport, PureSvdColumnAndIntervals) {
  affinity::v1::TrainingReport report = SampleReport();
  report.mutable_model()->set_ndcg_at_k(0.3512);
  report.mutable_model()->set_ndcg_at_k_ci95(0.0081);
  report.mutable_popularity()->set_ndcg_at_k(0.2148);
  report.mutable_popularity()->set_ndcg_at_k_ci95(0.0102);
  report.mutable_puresvd()->set_ndcg_at_k(0.3485);
  report.mutable_puresvd()->set_ndcg_at_k_ci95(0.0079);
  report.mutable_puresvd()->set_precision_at_k(0.2891);
  report.mutable_puresvd()->set_users_evaluated(600);
  const std::string html = RenderTrainingReportHtml(report);
  EXPECT_THAT(html, HasSubstr("<th>most popular</th><th>PureSVD</th></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>ndcg@k</td><td>0.3512 &plusmn;0.0081</td>"
                              "<td>0.2148 &plusmn;0.0102</td>"
                              "<td>0.3485 &plusmn;0.0079</td></tr>"));
  // A metric without an interval stays a plain number.
  EXPECT_THAT(html, HasSubstr("<tr><td>precision@k</td><td>0.2500</td>"
                              "<td>0.1250</td><td>0.2891</td></tr>"));
  EXPECT_THAT(html, HasSubstr("95% confidence interval over users"));
}

TEST(HtmlReport, RatingAccuracyWhenReported) {
  affinity::v1::TrainingReport report = SampleReport();
  report.mutable_model_ratings()->set_rmse(0.9123);
  report.mutable_model_ratings()->set_rmse_ci95(0.0101);
  report.mutable_model_ratings()->set_mae(0.7171);
  report.mutable_model_ratings()->set_mae_ci95(0.0075);
  report.mutable_model_ratings()->set_ratings_evaluated(20000);
  const std::string html = RenderTrainingReportHtml(report);
  EXPECT_THAT(html, HasSubstr("Rating accuracy"));
  EXPECT_THAT(html, HasSubstr("<tr><td>RMSE</td><td>0.9123 &plusmn;0.0101</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>MAE</td><td>0.7171 &plusmn;0.0075</td></tr>"));
  EXPECT_THAT(html, HasSubstr("20000 held-out ratings"));
}

TEST(HtmlReport, NightlyRunShowsTheLiveColumnTheGateAndTheTrainingData) {
  affinity::v1::TrainingReport report = SampleReport();
  report.set_outcome("gated");
  report.set_comparison("interactions newer than live version 3's data");
  report.set_trained_on("the gate's training split: 80 of 100 interactions");
  report.set_live_version(3);
  *report.mutable_live() = report.model();
  report.mutable_live()->set_ndcg_at_k(0.4321);
  report.mutable_gate()->set_outcome(affinity::v1::GateRecord::FAILED);
  report.mutable_gate()->set_metric("ndcg_at_10");
  report.mutable_gate()->set_live_version(3);
  const std::string html = RenderTrainingReportHtml(report);
  EXPECT_THAT(html, HasSubstr("<h2>Nightly run: gated</h2>"));
  EXPECT_THAT(html, HasSubstr("<th>candidate</th><th>live version 3</th><th>most popular</th>"));
  EXPECT_THAT(html, HasSubstr("0.4321"));
  EXPECT_THAT(html, HasSubstr("ndcg_at_10 FAILED"));
  EXPECT_THAT(html, HasSubstr("80 of 100 interactions"));
}

TEST(HtmlReport, RunDateAndInputDataQuality) {
  affinity::v1::TrainingReport report = SampleReport();
  report.set_started_at("2026-12-01T20:19:12Z");
  report.set_rows_read(1000);
  report.set_duplicates_merged(30);
  report.set_rows_skipped(7);
  (*report.mutable_rows_skipped_by_reason())["missing field"] = 2;
  (*report.mutable_rows_skipped_by_reason())["weight not a number"] = 5;
  (*report.mutable_rows_skipped_by_reason())["<odd>"] = 0;
  const std::string html = RenderTrainingReportHtml(report);
  EXPECT_THAT(html, HasSubstr("run started 2026-12-01T20:19:12Z (UTC)"));
  EXPECT_THAT(html, HasSubstr("<h2>Input</h2>"));
  EXPECT_THAT(html, HasSubstr("<th>rows read</th><td>1000</td>"));
  EXPECT_THAT(html, HasSubstr("weights summed)</th><td>30</td>"));
  EXPECT_THAT(html, HasSubstr("(--on_error=skip)</th><td>7</td>"));
  // Most frequent reason first; reasons are escaped.
  const size_t weight = html.find("weight not a number</th><td>5</td>");
  const size_t missing = html.find("missing field</th><td>2</td>");
  ASSERT_NE(weight, std::string::npos);
  ASSERT_NE(missing, std::string::npos);
  EXPECT_LT(weight, missing);
  EXPECT_THAT(html, HasSubstr("&lt;odd&gt;"));
  // 1000 rows - 7 skipped - 30 merged.
  EXPECT_THAT(html, HasSubstr("with a weight)</th><td>963</td>"));
}

TEST(HtmlReport, MetricAndTimePlotsStartAtZero) {
  const std::string html = RenderTrainingReportHtml(SampleReport());
  // Loss (3, 2, 1) spans its range; sampled precision (0.1 .. 0.3) and
  // seconds (0.5 each) are drawn from 0.
  const size_t metrics = html.find("aria-label=\"sampled holdout metrics\"");
  const size_t seconds = html.find("aria-label=\"seconds per iteration\"");
  ASSERT_NE(metrics, std::string::npos);
  ASSERT_NE(seconds, std::string::npos);
  EXPECT_THAT(html.substr(0, metrics), HasSubstr("axis starts at 1, not 0"));
  const std::string metrics_svg = html.substr(metrics, seconds - metrics);
  EXPECT_THAT(metrics_svg, HasSubstr(">0</text>"));
  EXPECT_THAT(metrics_svg, Not(HasSubstr("not 0")));
  EXPECT_THAT(html.substr(seconds), HasSubstr(">0</text>"));
  EXPECT_THAT(html.substr(seconds), Not(HasSubstr("not 0")));
  // The holdout metrics as bars, model beside most popular.
  EXPECT_THAT(html, HasSubstr("aria-label=\"holdout metrics at k = 10\""));
  EXPECT_THAT(html, HasSubstr("<title>precision@10 model: 0.25</title>"));
  EXPECT_THAT(html, HasSubstr("<title>precision@10 most popular: 0.125</title>"));
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
