// Renders a training run as one self-contained HTML page (inline CSS and
// SVG, no scripts, no external resources): when the run started (UTC), a
// warning banner when the model does not beat most-popular
// (baseline_warning.h), the input's data-quality counts, the data as it
// passed through (data_section.h), the run's parameters, loss and
// sampled holdout metrics per iteration as line plots, and the final
// metrics of the model beside the most-popular and (when evaluated) PureSVD
// baselines, with 95% confidence half-widths where known (also as bars from
// zero), and the model's rating accuracy (RMSE, MAE) when reported. Metric
// and time plots start at zero; the loss plot spans the loss's range and
// says so.
#ifndef AFFINITY_TRAINER_REPORT_HTML_REPORT_H_
#define AFFINITY_TRAINER_REPORT_HTML_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "affinity/v1/training_report.pb.h"
#include "trainer/report/html_escape.h"
#include "trainer/report/svg_charts.h"

namespace affinity {

// The whole page for a run.
std::string RenderTrainingReportHtml(const affinity::v1::TrainingReport& report);

// Writes RenderTrainingReportHtml(report) to path (replaced atomically).
absl::Status WriteTrainingReportHtml(const affinity::v1::TrainingReport& report,
                                     const std::string& path);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_HTML_REPORT_H_
