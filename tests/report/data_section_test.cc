#include "trainer/report/data_section.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trainer/report/html_report.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

affinity::v1::DataProfile SampleProfile() {
  affinity::v1::DataProfile p;
  p.set_columns(4);
  auto* row = p.add_first_rows();
  row->set_line(2);
  row->set_user("<u1>");
  row->set_item("a");
  row->set_weight(2.5);
  row->set_timestamp(964982703);
  p.set_weight_transform("raw");
  p.mutable_weights()->set_count(9);
  p.mutable_weights()->set_min(1);
  p.mutable_weights()->set_median(2);
  p.mutable_weights()->set_max(5);
  p.mutable_weights()->set_mean(22.0 / 9);
  p.mutable_interactions_per_user()->set_count(5);
  p.mutable_interactions_per_user()->set_max(3);
  for (auto [low, high, count] : {std::tuple{1, 1, 2}, {2, 3, 3}}) {
    auto* bin = p.add_user_histogram();
    bin->set_low(low);
    bin->set_high(high);
    bin->set_count(count);
  }
  auto* top = p.add_top_items();
  top->set_id("a");
  top->set_interactions(4);
  p.set_has_timestamps(true);
  p.set_first_timestamp(50);
  p.set_last_timestamp(964982703);
  return p;
}

TEST(DataSection, RowsQuantilesHistogramsAndTopLists) {
  const std::string html = RenderDataSectionHtml(SampleProfile());
  EXPECT_THAT(html, HasSubstr("<h2>Data</h2>"));
  EXPECT_THAT(html, HasSubstr("<th>weight</th><th>timestamp</th>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>2</td><td>&lt;u1&gt;</td><td>a</td><td>2.5</td>"
                              "<td>964982703 (2000-07-30 18:45:03 UTC)</td></tr>"));
  // count, min, p25, median, p75, p90, p99, max, mean.
  EXPECT_THAT(html, HasSubstr("--weight=raw)</th><td>9</td><td>1</td><td>0</td><td>2</td>"
                              "<td>0</td><td>0</td><td>0</td><td>5</td><td>2.444</td></tr>"));
  // The histogram is a bar chart from zero with one bar per bin.
  EXPECT_THAT(html, HasSubstr("aria-label=\"users by their number of interactions\""));
  EXPECT_THAT(html, HasSubstr("<title>2-3 users: 3</title>"));
  EXPECT_THAT(html, HasSubstr("<title>1 users: 2</title>"));
  // 4 of 9 interactions.
  EXPECT_THAT(html, HasSubstr("<tr><td>1</td><td>a</td><td>4</td><td>44.44%</td></tr>"));
  EXPECT_THAT(html, HasSubstr("Timestamps from 50 to 964982703 (2000-07-30 18:45:03 UTC)."));
}

TEST(DataSection, TwoColumnInputsHaveNoWeightOrTimestampColumns) {
  affinity::v1::DataProfile p = SampleProfile();
  p.set_columns(2);
  p.set_has_timestamps(false);
  const std::string html = RenderDataSectionHtml(p);
  EXPECT_THAT(html, Not(HasSubstr("<th>weight</th>")));
  EXPECT_THAT(html, Not(HasSubstr("<th>timestamp</th>")));
  EXPECT_THAT(html, HasSubstr("1 per row, duplicates summed"));
  EXPECT_THAT(html, Not(HasSubstr("Timestamps from")));
}

TEST(DataSection, EmptyProfileRendersNothingAndThePageCarriesTheSection) {
  EXPECT_EQ(RenderDataSectionHtml(affinity::v1::DataProfile()), "");
  affinity::v1::TrainingReport report;
  *report.mutable_data() = SampleProfile();
  EXPECT_THAT(RenderTrainingReportHtml(report), HasSubstr("<h3>First rows as parsed</h3>"));
}

}  // namespace
}  // namespace affinity
