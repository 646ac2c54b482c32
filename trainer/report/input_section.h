// The report's account of its input: the data-quality counts of ingest
// (rows read, duplicates merged, rows skipped per reason) as an HTML
// fragment. Pure functions of the report; thread-safe.
#ifndef AFFINITY_TRAINER_REPORT_INPUT_SECTION_H_
#define AFFINITY_TRAINER_REPORT_INPUT_SECTION_H_

#include <string>

#include "affinity/v1/training_report.pb.h"

namespace affinity {

// "<h2>Input</h2>" and a table: rows read, duplicates merged, rows skipped,
// one row per skip reason (most frequent first), and the interactions that
// remain. Text is escaped.
std::string RenderInputSectionHtml(const affinity::v1::TrainingReport& report);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_INPUT_SECTION_H_
