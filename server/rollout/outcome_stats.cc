#include "server/rollout/outcome_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "server/rollout/text_columns.h"

namespace affinity::server::rollout {
namespace {

bool Valid(const ClickCounts& c) {
  return c.clicks >= 0 && c.impressions >= 0 && c.clicks <= c.impressions;
}

double Rate(const ClickCounts& c) {
  return static_cast<double>(c.clicks) / static_cast<double>(c.impressions);
}

std::string Percent(double rate) { return absl::StrFormat("%.3f%%", 100 * rate); }

std::string Points(double difference) {
  return absl::StrFormat("%+.3f", 100 * difference);
}

std::string PValue(double p) {
  if (p < 0.0001) return "<0.0001";
  return absl::StrFormat("%.4f", p);
}

}  // namespace

absl::Status ValidateClickCounts(const ClickCounts& counts, absl::string_view what) {
  if (counts.clicks < 0 || counts.impressions < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", counts.clicks, " clicks, ", counts.impressions,
                     " impressions, expected counts >= 0"));
  }
  if (counts.clicks > counts.impressions) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", counts.clicks, " clicks out of ", counts.impressions,
                     " impressions, expected at most one click per impression"));
  }
  return absl::OkStatus();
}

std::optional<Interval> CtrInterval(const ClickCounts& counts) {
  if (!Valid(counts) || counts.impressions == 0) return std::nullopt;
  const double n = static_cast<double>(counts.impressions);
  const double p = Rate(counts);
  const double z2 = kZ95 * kZ95;
  const double denominator = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denominator;
  const double half = kZ95 / denominator * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return Interval{p, std::clamp(center - half, 0.0, 1.0), std::clamp(center + half, 0.0, 1.0)};
}

std::optional<CtrComparison> CompareCtr(const ClickCounts& control,
                                        const ClickCounts& treatment) {
  if (!Valid(control) || !Valid(treatment) || control.impressions == 0 ||
      treatment.impressions == 0) {
    return std::nullopt;
  }
  const double nc = static_cast<double>(control.impressions);
  const double nt = static_cast<double>(treatment.impressions);
  const double pc = Rate(control);
  const double pt = Rate(treatment);
  const double d = pt - pc;
  const double se = std::sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc);
  CtrComparison out;
  out.difference =
      Interval{d, std::clamp(d - kZ95 * se, -1.0, 1.0), std::clamp(d + kZ95 * se, -1.0, 1.0)};
  const double pooled =
      static_cast<double>(control.clicks + treatment.clicks) / (nc + nt);
  const double pooled_se = std::sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt));
  if (pooled_se > 0) {
    out.z = d / pooled_se;
    out.p_value = std::erfc(std::fabs(out.z) / std::sqrt(2.0));
  }
  return out;
}

absl::StatusOr<std::string> FormatArmTable(absl::Span<const ArmStatsRow> rows) {
  if (rows.empty()) {
    return absl::InvalidArgumentError("rows: empty, expected the control arm first");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string what = absl::StrCat("rows[", i, "] \"", rows[i].arm, "\"");
    if (absl::Status s = ValidateClickCounts({rows[i].clicks, rows[i].impressions}, what);
        !s.ok()) {
      return s;
    }
    if (rows[i].requests < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", rows[i].requests, " requests, expected >= 0"));
    }
  }
  std::vector<std::vector<std::string>> lines;
  lines.push_back({"arm", "version", "requests", "impressions", "clicks", "CTR [95% CI]",
                   "vs control [95% CI]", "p"});
  const ClickCounts control{rows[0].clicks, rows[0].impressions};
  for (size_t i = 0; i < rows.size(); ++i) {
    const ArmStatsRow& row = rows[i];
    const ClickCounts counts{row.clicks, row.impressions};
    std::vector<std::string> line = {row.arm,
                                     absl::StrCat(row.model_version),
                                     absl::StrCat(row.requests),
                                     absl::StrCat(row.impressions),
                                     absl::StrCat(row.clicks)};
    const std::optional<Interval> ctr = CtrInterval(counts);
    line.push_back(ctr ? absl::StrCat(Percent(ctr->estimate), " [", Percent(ctr->low), ", ",
                                      Percent(ctr->high), "]")
                       : "-");
    if (i == 0) {
      line.push_back("");
      line.push_back("");
    } else if (const std::optional<CtrComparison> cmp = CompareCtr(control, counts)) {
      line.push_back(absl::StrCat(Points(cmp->difference.estimate), " pp [",
                                  Points(cmp->difference.low), ", ",
                                  Points(cmp->difference.high), "]"));
      line.push_back(PValue(cmp->p_value));
    } else {
      line.push_back("-");
      line.push_back("-");
    }
    lines.push_back(std::move(line));
  }
  return FormatColumns(lines, {false, true, true, true, true, false, false, true});
}

}  // namespace affinity::server::rollout
