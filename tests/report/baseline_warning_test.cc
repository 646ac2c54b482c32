#include "trainer/report/baseline_warning.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trainer/report/html_report.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

affinity::v1::TrainingReport Evaluated(double model_ndcg, double popular_ndcg) {
  affinity::v1::TrainingReport report;
  report.set_k(10);
  report.mutable_model()->set_users_evaluated(100);
  report.mutable_model()->set_ndcg_at_k(model_ndcg);
  report.mutable_model()->set_precision_at_k(0.5);
  report.mutable_popularity()->set_users_evaluated(100);
  report.mutable_popularity()->set_ndcg_at_k(popular_ndcg);
  report.mutable_popularity()->set_precision_at_k(0.1);
  return report;
}

TEST(MostPopularWarning, NoneWhenTheModelIsAhead) {
  EXPECT_EQ(MostPopularWarning(Evaluated(0.30, 0.20)), std::nullopt);
}

TEST(MostPopularWarning, NoneWithoutEvaluation) {
  affinity::v1::TrainingReport report;
  report.set_k(10);
  EXPECT_EQ(MostPopularWarning(report), std::nullopt);
}

TEST(MostPopularWarning, BehindOrTiedOnNdcgWarnsWithBothValues) {
  EXPECT_THAT(MostPopularWarning(Evaluated(0.1219, 0.1331)),
              Optional(HasSubstr("the model does not beat the most-popular baseline on "
                                 "ndcg@10: 0.1219 vs 0.1331")));
  // A tie does not beat it either.
  EXPECT_NE(MostPopularWarning(Evaluated(0.2, 0.2)), std::nullopt);
}

TEST(MostPopularWarning, SaysWhetherTheIntervalsOverlap) {
  affinity::v1::TrainingReport report = Evaluated(0.12, 0.13);
  report.mutable_model()->set_ndcg_at_k_ci95(0.01);
  report.mutable_popularity()->set_ndcg_at_k_ci95(0.01);
  EXPECT_THAT(MostPopularWarning(report), Optional(HasSubstr("overlap (possibly noise")));
  report.mutable_model()->set_ndcg_at_k(0.05);
  EXPECT_THAT(MostPopularWarning(report),
              Optional(HasSubstr("±0.0100 and ±0.0100 do not overlap")));
}

TEST(MostPopularWarning, NightlyUsesTheGateMetricAndSaysCandidate) {
  // Behind on ndcg, ahead on precision: the gate's precision decides.
  affinity::v1::TrainingReport report = Evaluated(0.1, 0.2);
  report.set_outcome("published");
  report.mutable_gate()->set_metric("precision_at_10");
  EXPECT_EQ(MainRankingMetric(report), "precision@10");
  EXPECT_EQ(MostPopularWarning(report), std::nullopt);
  report.mutable_popularity()->set_precision_at_k(0.6);
  EXPECT_THAT(MostPopularWarning(report),
              Optional(HasSubstr("the candidate does not beat the most-popular baseline "
                                 "on precision@10: 0.5000 vs 0.6000")));
  // While the nightly run is under way only its fingerprint is set.
  report.clear_outcome();
  report.set_fingerprint("626ac0cdc8b7");
  EXPECT_THAT(MostPopularWarning(report), Optional(HasSubstr("the candidate does not beat")));
  // A rating gate metric has no most-popular counterpart: ndcg then.
  report.mutable_gate()->set_metric("rmse");
  EXPECT_EQ(MainRankingMetric(report), "ndcg@10");
}

TEST(MostPopularWarning, ReportShowsABannerOnlyWhenBehind) {
  const std::string behind = RenderTrainingReportHtml(Evaluated(0.1219, 0.1331));
  EXPECT_THAT(behind, HasSubstr("<div class=\"warning\" role=\"alert\">Warning: the model does "
                                "not beat the most-popular baseline on ndcg@10: 0.1219 vs "
                                "0.1331."));
  // The banner comes before the metrics.
  EXPECT_LT(behind.find("class=\"warning\""), behind.find("<h2>Holdout metrics"));
  const std::string ahead = RenderTrainingReportHtml(Evaluated(0.3, 0.2));
  EXPECT_THAT(ahead, Not(HasSubstr("class=\"warning\"")));
}

}  // namespace
}  // namespace affinity
