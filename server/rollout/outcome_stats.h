// Statistics of A/B outcomes: click-through rate per arm with a 95%
// interval, the treatment-minus-control difference with its 95% interval
// and the p-value of the two-proportion z-test, and the per-arm table the
// CLI prints.
//
// With c clicks out of n impressions, p = c / n, z = 1.959963984540054
// (the 0.975 quantile of the standard normal):
//
//   CTR interval (Wilson score):
//     center = (p + z^2 / (2n)) / (1 + z^2 / n)
//     half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
//     [center - half, center + half]
//   Difference d = p_t - p_c (treatment minus control), unpooled normal
//   approximation:
//     se = sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c)
//     [d - z se, d + z se]
//   Two-proportion z-test (pooled), two-sided:
//     P = (c_t + c_c) / (n_t + n_c)
//     z_stat = d / sqrt(P (1 - P) (1 / n_t + 1 / n_c))
//     p-value = erfc(|z_stat| / sqrt(2))
//
// Edge cases: no impressions leaves the CTR (and any comparison involving
// it) undefined (nullopt). When both arms have no clicks, or both only
// clicks, the pooled deviation is 0: z_stat is 0 and the p-value 1; the
// unpooled interval then has zero width (a known weakness of the normal
// approximation at 0% and 100%). Interval bounds are clamped to [0, 1] for
// rates and [-1, 1] for differences.
//
// Thread safety: pure functions. Errors are absl::Status; nothing throws.
#ifndef AFFINITY_SERVER_ROLLOUT_OUTCOME_STATS_H_
#define AFFINITY_SERVER_ROLLOUT_OUTCOME_STATS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace affinity::server::rollout {

inline constexpr double kZ95 = 1.959963984540054;

struct ClickCounts {
  int64_t clicks = 0;
  int64_t impressions = 0;
};

// InvalidArgument "<what>: ..." when a count is negative or clicks exceed
// impressions.
absl::Status ValidateClickCounts(const ClickCounts& counts, absl::string_view what);

struct Interval {
  double estimate = 0;
  double low = 0;
  double high = 0;
};

// CTR and its Wilson score interval; nullopt when impressions is 0 or the
// counts are invalid.
std::optional<Interval> CtrInterval(const ClickCounts& counts);

struct CtrComparison {
  Interval difference;  // treatment CTR minus control CTR
  double z = 0;         // pooled z statistic
  double p_value = 1;   // two-sided
};

// nullopt when either arm has no impressions or invalid counts.
std::optional<CtrComparison> CompareCtr(const ClickCounts& control,
                                        const ClickCounts& treatment);

// One line of the per-arm table.
struct ArmStatsRow {
  std::string arm;
  uint64_t model_version = 0;
  int64_t requests = 0;
  int64_t impressions = 0;
  int64_t clicks = 0;
};

// The table the CLI prints: a header line, then one line per row; rows[0]
// is the control and every other row is compared with it. Columns: arm,
// version, requests, impressions, clicks, "CTR [95% CI]" (percent, Wilson),
// "vs control [95% CI]" (percentage points) and p, e.g. (lines cut at
// "|" here; each row is one line):
//
//   arm        version  requests  impressions  clicks  CTR [95% CI]             |
//   control         12     90000        85000    1700  2.000% [1.908%, 2.096%]  |
//   treatment       13     10000         9400     220  2.340% [2.054%, 2.666%]  |
//
//   | vs control [95% CI]              p
//   |
//   | +0.340 pp [+0.021, +0.660]  0.0265
//
// "-" where undefined (no impressions); p below 0.0001 prints as
// "<0.0001". InvalidArgument when rows is empty or a row's counts are
// negative or have more clicks than impressions (naming it as
// rows[i] "arm").
absl::StatusOr<std::string> FormatArmTable(absl::Span<const ArmStatsRow> rows);

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_OUTCOME_STATS_H_
