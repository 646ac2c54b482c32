#include "server/rollout/autopilot.h"

#include "absl/strings/str_cat.h"
#include "server/rollout/auto_promote.h"
#include "server/rollout/outcome_stats.h"
#include "server/rollout/rollout_status.h"
#include "storage/rollout_resolver.h"

namespace affinity::server::rollout {
namespace {

ClickCounts CountsOf(const std::vector<storage::ArmOutcomeCounts>& all, const std::string& arm,
                     uint64_t version) {
  ClickCounts out;
  for (const storage::ArmOutcomeCounts& c : all) {
    if (c.arm != arm || c.model_version != version || c.forced) continue;
    out.clicks += static_cast<int64_t>(c.counts.clicks);
    out.impressions += static_cast<int64_t>(c.counts.impressions);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Autopilot::RunOnce() {
  absl::StatusOr<affinity::v1::RolloutState> state = store_->GetRollout();
  if (!state.ok()) return state.status();
  const affinity::v1::NewVersionPolicy& policy = state->policy();
  if (policy.mode() != affinity::v1::NewVersionPolicy::CANARY ||
      !policy.auto_promote().enabled()) {
    return std::string();
  }
  absl::StatusOr<affinity::v1::ResolvedRollout> resolved = store_->ResolvedRollout();
  if (!resolved.ok()) return resolved.status();
  const affinity::v1::ResolvedArm* canary = nullptr;
  for (const auto& arm : resolved->arms()) {
    if (arm.name() == storage::kCanaryArmName) canary = &arm;
  }
  if (canary == nullptr) return std::string();
  const affinity::v1::ResolvedArm& control = resolved->arms(0);
  if (events_ == nullptr) {
    auto reader = storage::EventReader::Open(dir_);
    if (absl::IsNotFound(reader.status())) return std::string();  // no events yet
    if (!reader.ok()) return reader.status();
    events_ = *std::move(reader);
  } else if (absl::Status s = events_->Refresh(); !s.ok()) {
    return s;
  }
  auto counts = events_->Counts();
  if (!counts.ok()) return counts.status();
  const AutoPromoteDecision decision =
      DecideAutoPromote(policy.auto_promote(), CountsOf(*counts, control.name(), control.version()),
                        CountsOf(*counts, canary->name(), canary->version()));
  if (decision.action != AutoPromoteAction::kPromote) return std::string();

  affinity::v1::RolloutState next = *state;
  next.set_previous_control_version(control.version());
  next.set_control_version(canary->version());
  next.set_canary_after_version(canary->version());
  storage::RolloutChangeInfo change;
  change.by = by_;
  change.action = "auto-promote";
  change.reason = decision.reason.substr(0, kMaxChangeReasonBytes);
  absl::StatusOr<affinity::v1::RolloutStatus> written =
      WriteRollout(dir_, state->revision(), next, change);
  if (!written.ok()) {
    // Another server (or a person) changed the rollout first.
    if (absl::IsAborted(written.status())) return std::string();
    return written.status();
  }
  return absl::StrCat("auto-promoted canary version ", canary->version(),
                      " to control (was ", control.version(), "): ", decision.reason);
}

}  // namespace affinity::server::rollout
