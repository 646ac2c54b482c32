// Renders a LoadResult as the load generator's text report.
//
// Contract: the report has one "key: value" line each for the target and
// achieved rates (achieved_qps = completed / elapsed, ok_qps = OK answers /
// elapsed, send_rate_qps = sent / send window), the counts (due, sent,
// skipped, completed), one "status CODE: count" line per status code seen,
// the OK answers that hold fallback items and those wholly from the fallback
// (count and share of OK answers), latency quantiles p50/p90/p99/p99.9/max
// in milliseconds for all completed and for OK requests (and for the failed
// ones, when there are any), and the first error message of every failing
// code.
#ifndef AFFINITY_TOOLS_LOADGEN_LOAD_REPORT_H_
#define AFFINITY_TOOLS_LOADGEN_LOAD_REPORT_H_

#include <string>

#include "tools/loadgen/open_loop_runner.h"

namespace affinity::loadgen {

std::string FormatLoadReport(const LoadOptions& options, const LoadResult& result);

// Share of the OK answers wholly from the most-popular fallback; 0 without
// OK answers.
double FallbackOnlyShare(const LoadResult& result);

}  // namespace affinity::loadgen

#endif  // AFFINITY_TOOLS_LOADGEN_LOAD_REPORT_H_
