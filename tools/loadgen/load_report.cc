#include "tools/loadgen/load_report.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity::loadgen {
namespace {

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string LatencyLine(absl::string_view label, const LatencyHistogram& h) {
  if (h.count() == 0) return absl::StrCat("latency_ms ", label, ": no samples\n");
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  return absl::StrFormat(
      "latency_ms %s: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%d)\n",
      label, ms(h.Quantile(0.50)), ms(h.Quantile(0.90)), ms(h.Quantile(0.99)),
      ms(h.Quantile(0.999)), ms(h.Max()), h.count());
}

}  // namespace

std::string FormatLoadReport(const LoadOptions& options, const LoadResult& result) {
  const double elapsed_s = absl::ToDoubleSeconds(result.elapsed);
  const double send_s = absl::ToDoubleSeconds(result.send_window);
  const auto ok_count = result.by_code.find(grpc::StatusCode::OK);
  const double ok = ok_count == result.by_code.end() ? 0.0 : ok_count->second;
  std::string out = absl::StrFormat(
      "target_qps: %.1f\n"
      "achieved_qps: %.1f\n"
      "ok_qps: %.1f\n"
      "send_rate_qps: %.1f\n"
      "elapsed_s: %.3f\n"
      "due: %d\nsent: %d\nskipped_max_in_flight: %d\ncompleted: %d\n"
      "max_in_flight: %d\n",
      options.qps, elapsed_s > 0 ? result.completed / elapsed_s : 0.0,
      elapsed_s > 0 ? ok / elapsed_s : 0.0,
      send_s > 0 ? result.sent / send_s : 0.0, elapsed_s, result.due,
      result.sent, result.skipped_in_flight, result.completed,
      result.max_in_flight_seen);
  for (const auto& [code, count] : result.by_code) {
    absl::StrAppend(&out, "status ", CodeName(code), ": ", count, "\n");
  }
  auto share = [ok](int64_t n) { return ok > 0 ? 100.0 * n / ok : 0.0; };
  absl::StrAppendFormat(&out,
                        "fallback_answers: %d (%.1f%% of OK)        some items from the "
                        "most-popular fallback\n"
                        "fallback_only_answers: %d (%.1f%% of OK)   every item from it "
                        "(unknown users)\n",
                        result.fallback_answers, share(result.fallback_answers),
                        result.fallback_only_answers, share(result.fallback_only_answers));
  absl::StrAppend(&out, LatencyLine("all", result.latency_all),
                  LatencyLine("ok", result.latency_ok));
  if (result.latency_failed.count() > 0) {
    absl::StrAppend(&out, LatencyLine("failed", result.latency_failed));
  }
  for (const auto& [code, message] : result.first_error) {
    absl::StrAppend(&out, "error ", CodeName(code), ": ", message, "\n");
  }
  return out;
}

double FallbackOnlyShare(const LoadResult& result) {
  const auto ok = result.by_code.find(grpc::StatusCode::OK);
  if (ok == result.by_code.end() || ok->second == 0) return 0;
  return static_cast<double>(result.fallback_only_answers) / ok->second;
}

}  // namespace affinity::loadgen
