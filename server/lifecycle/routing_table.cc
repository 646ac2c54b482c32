#include "server/lifecycle/routing_table.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace affinity::server {

absl::StatusOr<std::shared_ptr<const RoutingTable>> RoutingTable::Build(
    const affinity::v1::ResolvedRollout& rollout,
    const std::map<uint64_t, std::shared_ptr<const LoadedModel>>& loaded,
    std::vector<std::string>* warnings) {
  if (rollout.arms_size() == 0) return absl::FailedPreconditionError("the rollout has no arm");
  std::vector<ArmServable> arms;
  std::vector<rollout::ArmShare> shares;
  int32_t others = 0;
  for (int i = 0; i < rollout.arms_size(); ++i) {
    const affinity::v1::ResolvedArm& arm = rollout.arms(i);
    auto it = loaded.find(arm.version());
    if (it == loaded.end()) {
      if (i == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "control version ", arm.version(), " is not loaded; the previous arms keep serving"));
      }
      warnings->push_back(absl::StrCat("arm ", arm.name(), ": version ", arm.version(),
                                       " is not loaded; its users go to control"));
      continue;
    }
    if (i > 0) others += arm.basis_points();
    arms.push_back({arm.name(), arm.version(), arm.basis_points(), it->second});
  }
  arms[0].basis_points = rollout::kBuckets - others;
  for (const ArmServable& arm : arms) {
    shares.push_back({arm.name, static_cast<uint32_t>(arm.basis_points)});
  }
  absl::StatusOr<rollout::ArmLayout> layout = rollout::ArmLayout::Create(shares);
  if (!layout.ok()) return layout.status();
  std::shared_ptr<RoutingTable> table(new RoutingTable(rollout.salt(), rollout.revision(),
                                                       std::move(arms), *std::move(layout)));
  const uint64_t shadow = rollout.shadow().version();
  if (shadow != 0) {
    auto it = loaded.find(shadow);
    if (it != loaded.end()) {
      table->shadow_ = it->second;
      table->shadow_basis_points_ = rollout.shadow().basis_points();
    } else {
      warnings->push_back(absl::StrCat("shadow: version ", shadow, " is not loaded"));
    }
  }
  return std::shared_ptr<const RoutingTable>(std::move(table));
}

absl::StatusOr<RoutingTable::Route> RoutingTable::RouteUnit(absl::string_view unit,
                                                           absl::string_view forced_arm) const {
  if (!forced_arm.empty()) {
    for (const ArmServable& arm : arms_) {
      if (arm.name == forced_arm) return Route{arm.model, arm.name, true};
    }
    std::vector<std::string> names;
    for (const ArmServable& arm : arms_) names.push_back(arm.name);
    return absl::InvalidArgumentError(absl::StrCat("arm: \"", forced_arm.substr(0, 40),
                                                   "\" is not an arm of the rollout, expected ",
                                                   absl::StrJoin(names, ", ")));
  }
  if (unit.empty() || arms_.size() == 1) return Route{arms_[0].model, arms_[0].name, false};
  const ArmServable& arm =
      arms_[layout_.ArmIndexForBucket(rollout::RolloutBucket(salt_, unit))];
  return Route{arm.model, arm.name, false};
}

std::set<uint64_t> RoutingTable::versions() const {
  std::set<uint64_t> out;
  for (const ArmServable& arm : arms_) out.insert(arm.version);
  if (shadow_ != nullptr) out.insert(shadow_->version);
  return out;
}

std::vector<std::shared_ptr<const LoadedModel>> RoutingTable::models() const {
  std::vector<std::shared_ptr<const LoadedModel>> out;
  std::set<uint64_t> seen;
  for (const ArmServable& arm : arms_) {
    if (seen.insert(arm.version).second) out.push_back(arm.model);
  }
  if (shadow_ != nullptr && seen.insert(shadow_->version).second) out.push_back(shadow_);
  return out;
}

std::string RoutingTable::Describe() const {
  std::vector<std::string> parts;
  for (const ArmServable& arm : arms_) {
    parts.push_back(absl::StrFormat("%s=v%d (%g%%)", arm.name, arm.version,
                                    arm.basis_points / 100.0));
  }
  std::string out = absl::StrJoin(parts, ", ");
  if (shadow_ != nullptr) {
    absl::StrAppendFormat(&out, ", shadow v%d (%g%%)", shadow_->version,
                          shadow_basis_points_ / 100.0);
  }
  return out;
}

}  // namespace affinity::server
