// The report's view of the data as it passed through ingest: the first rows
// as parsed, the quantiles and histograms (bar charts from zero) of the
// weights and of the interactions per user and per item, the most active
// users and most popular items, and the time range, as an HTML fragment.
// Pure function of the profile; thread-safe; text is escaped.
#ifndef AFFINITY_TRAINER_REPORT_DATA_SECTION_H_
#define AFFINITY_TRAINER_REPORT_DATA_SECTION_H_

#include <string>

#include "affinity/v1/training_report.pb.h"

namespace affinity {

// "<h2>Data</h2>" and what follows; empty when the profile is empty (a
// report without ingest, such as a skipped nightly run).
std::string RenderDataSectionHtml(const affinity::v1::DataProfile& profile);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_DATA_SECTION_H_
