#include "tools/cli/rollout_format.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "server/rollout/bucketing.h"
#include "server/rollout/text_columns.h"
#include "storage/rollout_resolver.h"

namespace affinity::cli {
namespace {

using affinity::v1::AutoPromoteRule;
using affinity::v1::NewVersionPolicy;
using affinity::v1::ResolvedArm;
using affinity::v1::RolloutArm;
using affinity::v1::RolloutState;
using affinity::v1::RolloutStatus;
using affinity::v1::ShadowConfig;

std::string Time(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

// "%.Nf" without trailing zeros (and without a trailing '.').
std::string Trimmed(double value, int decimals) {
  std::string text = absl::StrFormat("%.*f", decimals, value);
  absl::string_view view = text;
  if (absl::StrContains(view, '.')) {
    while (absl::ConsumeSuffix(&view, "0")) {
    }
    absl::ConsumeSuffix(&view, ".");
  }
  return std::string(view);
}

// An absolute CTR difference in percentage points, e.g. "0.5 pp".
std::string Points(double fraction) { return Trimmed(100 * fraction, 4) + " pp"; }

std::string ShadowText(const ShadowConfig& shadow) {
  if (shadow.version() == 0) return "off";
  return absl::StrCat(shadow.version(), "@", FormatShare(shadow.basis_points()));
}

std::string PolicyText(const NewVersionPolicy& policy) {
  if (policy.mode() != NewVersionPolicy::CANARY) return "control";
  std::string out = absl::StrCat("canary@", FormatShare(policy.canary_basis_points()));
  if (policy.auto_promote().enabled()) {
    absl::StrAppend(&out, "+auto(", policy.auto_promote().min_impressions(), ", ",
                    Points(policy.auto_promote().max_ctr_drop()), ")");
  }
  return out;
}

std::string ControlText(uint64_t version) {
  return version == 0 ? "follows the newest eligible version"
                      : absl::StrCat("pinned to version ", version);
}

std::string ArmTable(const affinity::v1::ResolvedRollout& resolved) {
  std::vector<server::rollout::ArmShare> shares;
  for (const ResolvedArm& arm : resolved.arms()) {
    shares.push_back({arm.name(), static_cast<uint32_t>(std::max(0, arm.basis_points()))});
  }
  absl::StatusOr<server::rollout::ArmLayout> layout = server::rollout::ArmLayout::Create(shares);
  std::vector<std::vector<std::string>> lines = {{"arm", "version", "share", "buckets"}};
  for (int i = 0; i < resolved.arms_size(); ++i) {
    const ResolvedArm& arm = resolved.arms(i);
    std::string buckets = "?";
    if (layout.ok()) {
      const server::rollout::ArmRange& range = layout->ranges()[i];
      buckets = range.begin == range.end ? "-" : absl::StrCat(range.begin, "-", range.end - 1);
    }
    lines.push_back(
        {arm.name(), absl::StrCat(arm.version()), FormatShare(arm.basis_points()), buckets});
  }
  return server::rollout::FormatColumns(lines, {false, true, true, false});
}

}  // namespace

std::string FormatShare(int32_t basis_points) { return Trimmed(basis_points / 100.0, 2) + "%"; }

std::string DescribeAutoPromote(const AutoPromoteRule& rule) {
  if (!rule.enabled()) return "auto-promotion off";
  return absl::StrCat("auto-promote once control and canary each have >= ", rule.min_impressions(),
                      " impressions and the 95% interval of (canary - control) CTR lies above -",
                      Points(rule.max_ctr_drop()));
}

std::string SummarizeState(const RolloutState& state) {
  std::vector<std::string> parts;
  parts.push_back(state.control_version() == 0 ? "control=newest"
                                               : absl::StrCat("control=", state.control_version()));
  for (const RolloutArm& arm : state.arms()) {
    parts.push_back(
        absl::StrCat(arm.name(), "=", arm.version(), "@", FormatShare(arm.basis_points())));
  }
  if (state.policy().mode() == NewVersionPolicy::CANARY) {
    std::string canary = absl::StrCat("canary@", FormatShare(state.policy().canary_basis_points()));
    if (state.policy().auto_promote().enabled()) canary += "+auto";
    parts.push_back(canary);
  }
  if (state.canary_after_version() != 0) {
    parts.push_back(absl::StrCat("canary_after=", state.canary_after_version()));
  }
  if (state.shadow().version() != 0) parts.push_back("shadow=" + ShadowText(state.shadow()));
  if (state.previous_control_version() != 0) {
    parts.push_back(absl::StrCat("prev=", state.previous_control_version()));
  }
  if (!state.salt().empty()) parts.push_back("salt=" + state.salt());
  return absl::StrJoin(parts, " ");
}

std::string SummarizeResolved(const RolloutStatus& status) {
  if (status.resolved().arms_size() == 0) {
    return absl::StrCat("none (", status.unresolved_reason(), ")");
  }
  std::vector<std::string> parts;
  for (const ResolvedArm& arm : status.resolved().arms()) {
    parts.push_back(
        absl::StrCat(arm.name(), "=", arm.version(), "@", FormatShare(arm.basis_points())));
  }
  return absl::StrJoin(parts, " ");
}

std::vector<std::string> DescribeStateChange(const RolloutState& before,
                                             const RolloutState& after) {
  std::vector<std::string> lines;
  if (before.salt() != after.salt()) {
    lines.push_back(absl::StrCat("salt: \"", before.salt(), "\" -> \"", after.salt(),
                                 "\" (users are reshuffled between arms)"));
  }
  if (before.control_version() != after.control_version()) {
    lines.push_back(absl::StrCat("control: ", ControlText(before.control_version()), " -> ",
                                 ControlText(after.control_version())));
  }
  std::map<std::string, std::pair<const RolloutArm*, const RolloutArm*>> arms;
  std::vector<std::string> order;
  for (const RolloutArm& arm : before.arms()) {
    arms[arm.name()].first = &arm;
    order.push_back(arm.name());
  }
  for (const RolloutArm& arm : after.arms()) {
    if (arms[arm.name()].first == nullptr) order.push_back(arm.name());
    arms[arm.name()].second = &arm;
  }
  auto arm_text = [](const RolloutArm* arm) {
    return absl::StrCat("version ", arm->version(), " on ", FormatShare(arm->basis_points()));
  };
  for (const std::string& name : order) {
    const auto& [was, now] = arms[name];
    if (was != nullptr && now != nullptr && was->version() == now->version() &&
        was->basis_points() == now->basis_points()) {
      continue;
    }
    if (was == nullptr) {
      lines.push_back(absl::StrCat("arm ", name, ": added, ", arm_text(now)));
    } else if (now == nullptr) {
      lines.push_back(absl::StrCat("arm ", name, ": removed (was ", arm_text(was), ")"));
    } else {
      lines.push_back(absl::StrCat("arm ", name, ": ", arm_text(was), " -> ", arm_text(now)));
    }
  }
  if (PolicyText(before.policy()) != PolicyText(after.policy())) {
    lines.push_back(
        absl::StrCat("policy: ", PolicyText(before.policy()), " -> ", PolicyText(after.policy())));
  }
  if (before.canary_after_version() != after.canary_after_version()) {
    lines.push_back(absl::StrCat("canary only for versions after: ", before.canary_after_version(),
                                 " -> ", after.canary_after_version()));
  }
  if (ShadowText(before.shadow()) != ShadowText(after.shadow())) {
    lines.push_back(
        absl::StrCat("shadow: ", ShadowText(before.shadow()), " -> ", ShadowText(after.shadow())));
  }
  if (before.previous_control_version() != after.previous_control_version()) {
    auto text = [](uint64_t v) {
      return v == 0 ? std::string("none") : absl::StrCat("version ", v);
    };
    lines.push_back(absl::StrCat("rollback returns to: ", text(before.previous_control_version()),
                                 " -> ", text(after.previous_control_version())));
  }
  return lines;
}

std::string FormatRolloutStatus(const std::string& target, const RolloutStatus& status) {
  const RolloutState& state = status.state();
  std::string out = absl::StrCat("== ", target);
  if (!status.store().empty() && status.store() != target) {
    absl::StrAppend(&out, " (store ", status.store(), ")");
  }
  absl::StrAppend(&out, " ==\n");
  if (state.revision() == 0) {
    absl::StrAppend(&out, "revision 0 (never changed)\n");
  } else {
    absl::StrAppend(&out, "revision ", state.revision(), ", updated ",
                    Time(state.updated_at_unix()), " by ", state.updated_by(), "\n");
  }
  absl::StrAppend(&out, "salt: \"",
                  status.resolved().arms_size() > 0 ? status.resolved().salt() : state.salt(),
                  "\"\n");
  if (status.resolved().arms_size() == 0) {
    absl::StrAppend(&out, "arms: none serve: ", status.unresolved_reason(), "\n");
  } else {
    absl::StrAppend(&out, ArmTable(status.resolved()));
  }
  absl::StrAppend(&out, "control: ", ControlText(state.control_version()));
  if (state.control_version() == 0 && status.resolved().arms_size() > 0) {
    absl::StrAppend(&out, " (now ", status.resolved().arms(0).version(), ")");
  }
  if (state.previous_control_version() != 0) {
    absl::StrAppend(&out, "; rollback returns to version ", state.previous_control_version());
  }
  absl::StrAppend(&out, "\n");
  const ShadowConfig& shadow = status.resolved().shadow();
  absl::StrAppend(&out, "shadow: ",
                  shadow.version() == 0 ? std::string("off")
                                        : absl::StrCat("version ", shadow.version(), " scores ",
                                                       FormatShare(shadow.basis_points()),
                                                       " of requests off the latency path"),
                  "\n");
  const NewVersionPolicy& policy = state.policy();
  if (policy.mode() == NewVersionPolicy::CANARY) {
    absl::StrAppend(&out, "policy: canary: new eligible versions start on ",
                    FormatShare(policy.canary_basis_points()));
    if (state.canary_after_version() != 0) {
      absl::StrAppend(&out, " (only versions after ", state.canary_after_version(), ")");
    }
    absl::StrAppend(&out, "; ", DescribeAutoPromote(policy.auto_promote()), "\n");
  } else {
    absl::StrAppend(&out, "policy: control: new eligible versions become control at once",
                    state.control_version() != 0 ? " (while control is not pinned)" : "", "\n");
  }
  for (const std::string& warning : status.resolved().warnings()) {
    absl::StrAppend(&out, "warning: ", warning, "\n");
  }
  return out;
}

std::vector<std::string> Disagreements(const std::vector<std::string>& targets,
                                       const std::vector<RolloutStatus>& statuses) {
  struct Aspect {
    const char* name;
    std::string (*value)(const RolloutStatus&);
  };
  static const Aspect kAspects[] = {
      {"arms", [](const RolloutStatus& s) { return SummarizeResolved(s); }},
      {"salt", [](const RolloutStatus& s) { return absl::StrCat("\"", s.state().salt(), "\""); }},
      {"shadow", [](const RolloutStatus& s) { return ShadowText(s.resolved().shadow()); }},
      {"policy",
       [](const RolloutStatus& s) {
         std::string text = PolicyText(s.state().policy());
         if (s.state().policy().mode() == NewVersionPolicy::CANARY &&
             s.state().canary_after_version() != 0) {
           absl::StrAppend(&text, " after ", s.state().canary_after_version());
         }
         return text;
       }},
  };
  std::vector<std::string> lines;
  for (const Aspect& aspect : kAspects) {
    std::vector<std::string> values;
    bool differ = false;
    for (const RolloutStatus& status : statuses) {
      values.push_back(aspect.value(status));
      differ = differ || values.back() != values.front();
    }
    if (!differ) continue;
    std::vector<std::string> parts;
    for (size_t i = 0; i < values.size(); ++i) {
      parts.push_back(absl::StrCat(targets[i], " has ", values[i]));
    }
    lines.push_back(absl::StrCat("DISAGREE: ", aspect.name, ": ", absl::StrJoin(parts, "; ")));
  }
  return lines;
}

std::string FormatRolloutHistory(const std::vector<affinity::v1::RolloutChange>& changes) {
  if (changes.empty()) return "no rollout change recorded\n";
  std::string out;
  for (const affinity::v1::RolloutChange& change : changes) {
    absl::StrAppend(&out, "revision ", change.revision(), "  ", Time(change.at_unix()), "  ",
                    change.action(), "  by ", change.by(), "\n");
    if (!change.reason().empty()) absl::StrAppend(&out, "  reason: ", change.reason(), "\n");
    absl::StrAppend(&out, "  ", SummarizeState(change.before()), " -> ",
                    SummarizeState(change.after()), "\n");
  }
  return out;
}

}  // namespace affinity::cli
