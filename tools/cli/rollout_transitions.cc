#include "tools/cli/rollout_transitions.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/rollout_resolver.h"
#include "tools/cli/rollout_format.h"

namespace affinity::cli {
namespace {

using affinity::v1::NewVersionPolicy;
using affinity::v1::ResolvedArm;
using affinity::v1::RolloutArm;
using affinity::v1::RolloutState;
using affinity::v1::RolloutStatus;
using storage::kCanaryArmName;
using storage::kControlArmName;

absl::Status Bad(absl::string_view flag, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", what));
}

// The resolved arms, or FailedPrecondition saying why nothing serves.
absl::Status RequireResolved(const RolloutStatus& current) {
  if (current.resolved().arms_size() > 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "nothing serves: ", current.unresolved_reason().empty() ? "the rollout resolves to no arm"
                                                              : current.unresolved_reason()));
}

uint64_t ResolvedControl(const RolloutStatus& current) {
  return current.resolved().arms_size() > 0 ? current.resolved().arms(0).version() : 0;
}

// The state to edit: the stored one without the store's bookkeeping.
RolloutState Editable(const RolloutStatus& current) {
  RolloutState next = current.state();
  next.clear_revision();
  next.clear_updated_at_unix();
  next.clear_updated_by();
  return next;
}

int FindArm(const RolloutState& state, const std::string& name) {
  for (int i = 0; i < state.arms_size(); ++i) {
    if (state.arms(i).name() == name) return i;
  }
  return -1;
}

void RemoveArm(RolloutState& state, int index) { state.mutable_arms()->DeleteSubrange(index, 1); }

std::string ArmNames(const RolloutStatus& current) {
  std::vector<std::string> names;
  for (const ResolvedArm& arm : current.resolved().arms()) {
    if (arm.name() != kControlArmName) names.push_back(arm.name());
  }
  for (const RolloutArm& arm : current.state().arms()) {
    if (std::find(names.begin(), names.end(), arm.name()) == names.end()) {
      names.push_back(arm.name());
    }
  }
  return names.empty() ? "none besides control" : absl::StrJoin(names, ", ");
}

absl::StatusOr<RolloutEdit> SetControl(const RolloutStatus& current,
                                       std::optional<uint64_t> version,
                                       std::optional<int32_t> basis_points) {
  if (basis_points.has_value()) {
    return Bad("--fraction",
               "control takes what the other arms leave; change the other arms' fractions");
  }
  if (!version.has_value()) {
    return Bad("--version",
               "set --arm=control needs --version=N (0: follow the newest eligible version)");
  }
  RolloutEdit edit;
  edit.next = Editable(current);
  if (*version == 0) {
    edit.next.set_control_version(0);
    edit.action = "unpin";
    edit.summary = "control follows the newest eligible version";
    if (edit.next.policy().mode() == NewVersionPolicy::CANARY) {
      absl::StrAppend(&edit.summary,
                      " (under the canary policy the canary arm stays empty while control is "
                      "not pinned)");
    }
    return edit;
  }
  const uint64_t resolved = ResolvedControl(current);
  if (resolved != 0 && resolved != *version) edit.next.set_previous_control_version(resolved);
  edit.next.set_control_version(*version);
  edit.action = "pin";
  edit.summary = absl::StrCat("control pinned to version ", *version);
  if (resolved != 0 && resolved != *version) {
    absl::StrAppend(&edit.summary, " (was ", resolved, "; rollback returns to it)");
  }
  return edit;
}

}  // namespace

absl::StatusOr<RolloutEdit> SetArm(const RolloutStatus& current, const std::string& arm,
                                   std::optional<uint64_t> version,
                                   std::optional<int32_t> basis_points) {
  if (arm == kControlArmName) return SetControl(current, version, basis_points);
  if (arm == kCanaryArmName) {
    return Bad("--arm",
               "canary is the policy's arm: use policy --canary_fraction=F, promote or rollback");
  }
  if (version.has_value() && *version == 0) {
    return Bad("--version", "0 is not a model version (only control may follow the newest)");
  }
  RolloutEdit edit;
  edit.action = "set";
  edit.next = Editable(current);
  const int index = FindArm(edit.next, arm);
  if (basis_points.has_value() && *basis_points == 0) {
    if (index < 0) {
      return Bad("--arm",
                 absl::StrCat("no arm \"", arm, "\" to remove (arms: ", ArmNames(current), ")"));
    }
    edit.summary = absl::StrCat("arm ", arm, " (version ", edit.next.arms(index).version(),
                                ") removed; its users go to control");
    RemoveArm(edit.next, index);
    return edit;
  }
  if (index < 0) {
    if (!version.has_value()) return Bad("--version", "a new arm needs --version=N");
    if (!basis_points.has_value()) return Bad("--fraction", "a new arm needs --fraction=F");
    RolloutArm* added = edit.next.add_arms();
    added->set_name(arm);
    added->set_version(*version);
    added->set_basis_points(*basis_points);
    edit.summary =
        absl::StrCat("arm ", arm, " added: version ", *version, " on ", FormatShare(*basis_points));
    return edit;
  }
  if (!version.has_value() && !basis_points.has_value()) {
    return Bad("--fraction", "set needs --version=N and/or --fraction=F");
  }
  RolloutArm* existing = edit.next.mutable_arms(index);
  if (version.has_value()) existing->set_version(*version);
  if (basis_points.has_value()) existing->set_basis_points(*basis_points);
  edit.summary = absl::StrCat("arm ", arm, ": version ", existing->version(), " on ",
                              FormatShare(existing->basis_points()));
  return edit;
}

absl::StatusOr<RolloutEdit> Promote(const RolloutStatus& current,
                                    const std::optional<std::string>& arm) {
  if (absl::Status s = RequireResolved(current); !s.ok()) return s;
  if (arm.has_value() && *arm == kControlArmName) {
    return Bad("--arm", "control is already control; name the arm to promote");
  }
  const ResolvedArm* chosen = nullptr;
  std::vector<std::string> candidates;
  for (const ResolvedArm& resolved : current.resolved().arms()) {
    if (resolved.name() == kControlArmName) continue;
    candidates.push_back(resolved.name());
    if (arm.has_value() ? resolved.name() == *arm : true) chosen = &resolved;
  }
  if (arm.has_value() && chosen == nullptr) {
    if (FindArm(current.state(), *arm) >= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "arm ", *arm, " does not serve (", absl::StrJoin(current.resolved().warnings(), "; "),
          "); nothing to promote"));
    }
    return Bad("--arm", absl::StrCat("no arm \"", *arm, "\" (arms: ", ArmNames(current), ")"));
  }
  if (!arm.has_value()) {
    if (candidates.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "nothing to promote: control (version ", ResolvedControl(current), ") has all traffic"));
    }
    if (candidates.size() > 1) {
      return Bad("--arm", absl::StrCat("several arms serve (", absl::StrJoin(candidates, ", "),
                                       "); name the one to promote"));
    }
  }
  const uint64_t old_control = ResolvedControl(current);
  RolloutEdit edit;
  edit.action = "promote";
  edit.next = Editable(current);
  edit.next.set_control_version(chosen->version());
  edit.next.set_previous_control_version(old_control);
  const int index = FindArm(edit.next, chosen->name());
  if (index >= 0) RemoveArm(edit.next, index);
  edit.summary =
      absl::StrCat("promote arm ", chosen->name(), ": version ", chosen->version(),
                   " becomes control (was version ", old_control, "; rollback returns to it)");
  return edit;
}

absl::StatusOr<RolloutEdit> Rollback(const RolloutStatus& current) {
  if (absl::Status s = RequireResolved(current); !s.ok()) return s;
  const uint64_t control = ResolvedControl(current);
  RolloutEdit edit;
  edit.action = "rollback";
  edit.next = Editable(current);
  std::vector<std::string> removed;
  for (const ResolvedArm& arm : current.resolved().arms()) {
    if (arm.name() == kControlArmName) continue;
    removed.push_back(absl::StrCat(arm.name(), " (version ", arm.version(), ")"));
    if (arm.name() == kCanaryArmName && FindArm(current.state(), arm.name()) < 0) {
      edit.next.set_canary_after_version(std::max(edit.next.canary_after_version(), arm.version()));
    }
  }
  if (!removed.empty()) {
    edit.next.clear_arms();
    edit.summary = absl::StrCat("all traffic to control (version ", control, "); removed ",
                                absl::StrJoin(removed, ", "));
    if (edit.next.canary_after_version() != current.state().canary_after_version()) {
      absl::StrAppend(&edit.summary, "; the canary comes back only with a version newer than ",
                      edit.next.canary_after_version());
    }
    return edit;
  }
  const uint64_t previous = current.state().previous_control_version();
  if (previous == 0 || previous == control) {
    return absl::FailedPreconditionError(
        absl::StrCat("nothing to roll back: control (version ", control,
                     ") has all traffic and no earlier control version is recorded"));
  }
  edit.next.set_control_version(previous);
  edit.next.set_previous_control_version(0);
  // A newer version rolled away from must not come back as the canary.
  if (control > previous) {
    edit.next.set_canary_after_version(std::max(edit.next.canary_after_version(), control));
  }
  edit.summary =
      absl::StrCat("control back to version ", previous, " (from version ", control, ")");
  return edit;
}

absl::StatusOr<RolloutEdit> SetShadow(const RolloutStatus& current, std::optional<uint64_t> version,
                                      std::optional<int32_t> basis_points) {
  if (!basis_points.has_value()) {
    return Bad("--fraction", "shadow needs --fraction=F (0 turns the shadow off)");
  }
  RolloutEdit edit;
  edit.action = "shadow";
  edit.next = Editable(current);
  if (*basis_points == 0) {
    edit.next.clear_shadow();
    edit.summary = "shadow off";
    return edit;
  }
  if (version.has_value() && *version == 0) {
    return Bad("--version", "0 is not a model version (--fraction=0 turns the shadow off)");
  }
  const uint64_t shadow = version.value_or(current.state().shadow().version());
  if (shadow == 0) return Bad("--version", "shadow needs --version=N");
  edit.next.mutable_shadow()->set_version(shadow);
  edit.next.mutable_shadow()->set_basis_points(*basis_points);
  edit.summary = absl::StrCat("shadow: version ", shadow, " scores ", FormatShare(*basis_points),
                              " of requests off the latency path");
  return edit;
}

absl::StatusOr<RolloutEdit> SetPolicy(const RolloutStatus& current, const PolicyChange& change) {
  RolloutEdit edit;
  edit.action = "policy";
  edit.next = Editable(current);
  NewVersionPolicy* policy = edit.next.mutable_policy();
  if (change.mode == NewVersionPolicy::CONTROL) {
    if (change.canary_basis_points.has_value()) {
      return Bad("--canary_fraction", "only the canary policy has a canary");
    }
    if (change.auto_promote.has_value()) {
      return Bad("--auto_promote_min_impressions", "auto-promotion needs --mode=canary");
    }
    policy->Clear();
    edit.summary = "new eligible versions become control at once";
    if (edit.next.control_version() != 0) {
      absl::StrAppend(&edit.summary, "; control stays pinned to version ",
                      edit.next.control_version(),
                      " (set --arm=control --version=0 lets it follow them)");
    }
    return edit;
  }
  const int32_t share = change.canary_basis_points.value_or(policy->canary_basis_points());
  if (share <= 0) {
    return Bad("--canary_fraction", change.canary_basis_points.has_value()
                                        ? "expected more than 0 under the canary policy"
                                        : "the canary policy needs --canary_fraction=F");
  }
  // A control following the newest version would leave the canary empty.
  const bool pin = edit.next.control_version() == 0;
  if (pin) {
    if (absl::Status s = RequireResolved(current); !s.ok()) return s;
    edit.next.set_control_version(ResolvedControl(current));
  }
  policy->set_mode(NewVersionPolicy::CANARY);
  policy->set_canary_basis_points(share);
  if (change.auto_promote.has_value()) {
    *policy->mutable_auto_promote() = *change.auto_promote;
    policy->mutable_auto_promote()->set_enabled(true);
  } else if (change.disable_auto_promote) {
    policy->clear_auto_promote();
  }
  edit.summary = absl::StrCat("new eligible versions start as the canary on ", FormatShare(share));
  if (pin) {
    absl::StrAppend(&edit.summary, "; control pinned to version ", edit.next.control_version());
  }
  absl::StrAppend(&edit.summary, "; ", DescribeAutoPromote(policy->auto_promote()));
  return edit;
}

}  // namespace affinity::cli
