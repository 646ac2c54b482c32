#include "trainer/training_outputs.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "trainer/als_run.h"
#include "trainer/data_preview.h"
#include "trainer/report/atomic_file.h"
#include "trainer/report/html_report.h"

namespace affinity {
namespace {

absl::Status WriteMetricsJson(const affinity::v1::TrainingReport& report,
                              const std::string& path) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(report, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("metrics JSON: ", status.ToString()));
  }
  return WriteFileAtomically(path, json);
}

absl::Status CheckWritableOutput(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  if (access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": cannot write ", path, " (directory ", dir, " is missing or not writable)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputPaths(const TrainingJobConfig& config) {
  if (absl::Status s = CheckWritableOutput("report", config.report_html); !s.ok()) return s;
  return CheckWritableOutput("metrics_json", config.metrics_json);
}

void StampRunStart(affinity::v1::TrainingReport* report) {
  report->set_started_at(
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
}

void LogIngest(const TrainingJobConfig& config, const Interactions& data, std::ostream& log,
               affinity::v1::TrainingReport* report) {
  const InteractionStats& stats = data.stats;
  const double ingest_seconds = stats.parse_seconds + stats.build_seconds;
  const double mb_per_s = ingest_seconds > 0 ? stats.bytes_read / 1e6 / ingest_seconds : 0;
  log << absl::StrFormat(
      "read %s: %d rows, %d users, %d items, %d interactions (%d duplicates "
      "merged) in %.2f s, %.1f MB/s\n",
      config.input, stats.rows_read, data.user_ids.size(), data.item_ids.size(),
      data.matrix.nnz(), stats.duplicates_merged, ingest_seconds, mb_per_s);
  if (stats.rows_skipped > 0) {
    std::string reasons;
    for (const auto& [reason, rows] : stats.skipped_by_reason) {
      absl::StrAppend(&reasons, reasons.empty() ? "" : ", ", rows, " ", reason);
      (*report->mutable_rows_skipped_by_reason())[reason] = rows;
    }
    log << absl::StrFormat("skipped %d malformed rows (--on_error=skip): %s; first ones:\n",
                           stats.rows_skipped, reasons);
    for (const std::string& e : stats.error_samples) log << "  " << e << "\n";
  }
  // The data as it passes through, computed once from the built matrix.
  const absl::Time start = absl::Now();
  *report->mutable_data() = DataProfileProto(data, config.reader.weight_transform);
  log << FormatDataPreview(report->data())
      << absl::StrFormat("(data profile computed in %.2f s)\n",
                         absl::ToDoubleSeconds(absl::Now() - start));
  report->set_users(data.user_ids.size());
  report->set_items(data.item_ids.size());
  report->set_rows_read(stats.rows_read);
  report->set_rows_skipped(stats.rows_skipped);
  report->set_duplicates_merged(stats.duplicates_merged);
  report->set_ingest_seconds(ingest_seconds);
  report->set_ingest_mb_per_s(mb_per_s);
}

void FillRunMetadata(const TrainingJobConfig& config, const InteractionStats& stats,
                     const affinity::v1::TrainingReport& report,
                     affinity::v1::ModelMetadata* metadata) {
  metadata->set_algorithm(report.algorithm());
  metadata->set_factors(config.als.factors);
  metadata->set_regularization(config.als.regularization);
  metadata->set_alpha(config.als.alpha);
  metadata->set_weight_transform(WeightTransformName(config.reader.weight_transform));
  metadata->set_input_crc32(stats.crc32);
  metadata->set_input_path(config.input);
  metadata->set_input_bytes(stats.bytes_read);
  metadata->set_created_at_unix(std::time(nullptr));
  *metadata->mutable_parameters() = report.parameters();
}

absl::Status WriteOutputs(const TrainingJobConfig& config,
                          const affinity::v1::TrainingReport& report) {
  if (!config.metrics_json.empty()) {
    if (absl::Status s = WriteMetricsJson(report, config.metrics_json); !s.ok()) return s;
  }
  if (!config.report_html.empty()) {
    if (absl::Status s = WriteTrainingReportHtml(report, config.report_html); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace affinity
