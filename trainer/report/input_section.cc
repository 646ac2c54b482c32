#include "trainer/report/input_section.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/report/html_escape.h"

namespace affinity {

std::string RenderInputSectionHtml(const affinity::v1::TrainingReport& report) {
  std::string html = "<h2>Input</h2>\n<table class=\"counts\">\n";
  auto row = [&](const std::string& name, double value) {
    absl::StrAppendFormat(&html, "<tr><th>%s</th><td>%.0f</td></tr>\n", name, value);
  };
  row("rows read", report.rows_read());
  row("duplicates merged (same user and item, weights summed)", report.duplicates_merged());
  row("rows skipped (--on_error=skip)", report.rows_skipped());
  std::vector<std::pair<std::string, double>> reasons(report.rows_skipped_by_reason().begin(),
                                                      report.rows_skipped_by_reason().end());
  std::sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (const auto& [reason, rows] : reasons) {
    absl::StrAppendFormat(&html, "<tr><th class=\"reason\">&nbsp;&nbsp;%s</th><td>%.0f</td></tr>\n",
                          HtmlEscape(reason), rows);
  }
  row("interactions (users x items with a weight)",
      report.rows_read() - report.rows_skipped() - report.duplicates_merged());
  html += "</table>\n";
  return html;
}

}  // namespace affinity
