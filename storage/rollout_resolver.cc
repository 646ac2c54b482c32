#include "storage/rollout_resolver.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace affinity::storage {
namespace {

using affinity::v1::NewVersionPolicy;
using affinity::v1::ResolvedArm;
using affinity::v1::ResolvedRollout;
using affinity::v1::RolloutState;

bool ValidArmName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const VersionInfo* Find(const std::vector<VersionInfo>& versions, uint64_t version) {
  for (const VersionInfo& v : versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

}  // namespace

bool IsEligible(const affinity::v1::ModelMetadata& metadata) { return !metadata.ineligible(); }

absl::Status ValidateRolloutState(const RolloutState& state) {
  if (state.salt().size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("salt: ", state.salt().size(), " bytes, expected at most 64"));
  }
  int64_t total = 0;
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < state.arms_size(); ++i) {
    const affinity::v1::RolloutArm& arm = state.arms(i);
    const std::string field = absl::StrCat("arms[", i, "]");
    if (!ValidArmName(arm.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".name: \"", arm.name().substr(0, 40),
          "\" is not a valid arm name, expected 1..32 characters of [a-z0-9_-]"));
    }
    if (arm.name() == kControlArmName || arm.name() == kCanaryArmName) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".name: \"", arm.name(), "\" is reserved (control takes what the arms leave; ",
          "canary is the policy's arm)"));
    }
    if (!names.insert(arm.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".name: arm \"", arm.name(), "\" appears twice"));
    }
    if (arm.version() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".version: expected a version >= 1"));
    }
    if (arm.basis_points() < 1 || arm.basis_points() > kTotalBasisPoints) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".basis_points: ", arm.basis_points(), ", expected 1..", kTotalBasisPoints));
    }
    total += arm.basis_points();
  }
  const NewVersionPolicy& policy = state.policy();
  if (policy.mode() == NewVersionPolicy::CANARY) {
    if (policy.canary_basis_points() < 1 || policy.canary_basis_points() > kTotalBasisPoints) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy.canary_basis_points: ", policy.canary_basis_points(),
                       ", expected 1..", kTotalBasisPoints));
    }
    total += policy.canary_basis_points();
  }
  if (total > kTotalBasisPoints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arms: ", total, " basis points in all (canary included), expected at most ",
        kTotalBasisPoints));
  }
  if (policy.auto_promote().enabled()) {
    if (policy.mode() != NewVersionPolicy::CANARY) {
      return absl::InvalidArgumentError(
          "policy.auto_promote: only the CANARY policy has a canary to promote");
    }
    if (policy.auto_promote().min_impressions() < 1) {
      return absl::InvalidArgumentError(
          "policy.auto_promote.min_impressions: expected at least 1");
    }
    const double drop = policy.auto_promote().max_ctr_drop();
    if (!(drop >= 0 && drop <= 1)) {
      return absl::InvalidArgumentError(
          "policy.auto_promote.max_ctr_drop: expected an absolute CTR in [0, 1]");
    }
  }
  const affinity::v1::ShadowConfig& shadow = state.shadow();
  if (shadow.basis_points() < 0 || shadow.basis_points() > kTotalBasisPoints) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shadow.basis_points: ", shadow.basis_points(), ", expected 0..", kTotalBasisPoints));
  }
  if (shadow.version() != 0 && shadow.basis_points() == 0) {
    return absl::InvalidArgumentError("shadow.basis_points: expected 1..10000 with a version");
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolvedRollout> ResolveRollout(const RolloutState& state,
                                               const std::vector<VersionInfo>& versions) {
  ResolvedRollout out;
  out.set_salt(state.salt());
  out.set_revision(state.revision());
  uint64_t newest_eligible = 0;
  for (const VersionInfo& v : versions) {
    if (IsEligible(v.metadata) && v.version > newest_eligible) newest_eligible = v.version;
  }
  uint64_t control = state.control_version();
  if (control != 0) {
    if (Find(versions, control) == nullptr) {
      return absl::NotFoundError(absl::StrCat("the pinned control version ", control,
                                              " is not a published version"));
    }
  } else {
    if (newest_eligible == 0) {
      return absl::NotFoundError(versions.empty()
                                     ? "no model version is published"
                                     : "no published model version is eligible to serve "
                                       "(every one was refused by the gate)");
    }
    control = newest_eligible;
  }
  ResolvedArm* control_arm = out.add_arms();
  control_arm->set_name(kControlArmName);
  control_arm->set_version(control);
  int32_t others = 0;
  absl::flat_hash_set<uint64_t> arm_versions;
  for (const affinity::v1::RolloutArm& arm : state.arms()) {
    const VersionInfo* info = Find(versions, arm.version());
    if (info == nullptr || !IsEligible(info->metadata)) {
      out.add_warnings(absl::StrCat("arm ", arm.name(), ": version ", arm.version(),
                                    info == nullptr ? " is not published" : " is not eligible",
                                    "; its users go to control"));
      continue;
    }
    ResolvedArm* resolved = out.add_arms();
    resolved->set_name(arm.name());
    resolved->set_version(arm.version());
    resolved->set_basis_points(arm.basis_points());
    others += arm.basis_points();
    arm_versions.insert(arm.version());
  }
  if (state.policy().mode() == affinity::v1::NewVersionPolicy::CANARY &&
      newest_eligible > control && newest_eligible > state.canary_after_version() &&
      !arm_versions.contains(newest_eligible)) {
    ResolvedArm* canary = out.add_arms();
    canary->set_name(kCanaryArmName);
    canary->set_version(newest_eligible);
    canary->set_basis_points(state.policy().canary_basis_points());
    others += state.policy().canary_basis_points();
  }
  control_arm->set_basis_points(kTotalBasisPoints - others);
  if (state.shadow().version() != 0) {
    if (Find(versions, state.shadow().version()) != nullptr) {
      *out.mutable_shadow() = state.shadow();
    } else {
      out.add_warnings(absl::StrCat("shadow: version ", state.shadow().version(),
                                    " is not published; no shadow runs"));
    }
  }
  return out;
}

std::set<uint64_t> ReferencedVersions(const RolloutState& state,
                                      const ResolvedRollout* resolved) {
  std::set<uint64_t> out;
  if (state.control_version() != 0) out.insert(state.control_version());
  if (state.previous_control_version() != 0) out.insert(state.previous_control_version());
  if (state.shadow().version() != 0) out.insert(state.shadow().version());
  for (const affinity::v1::RolloutArm& arm : state.arms()) out.insert(arm.version());
  if (resolved != nullptr) {
    for (const ResolvedArm& arm : resolved->arms()) out.insert(arm.version());
    if (resolved->shadow().version() != 0) out.insert(resolved->shadow().version());
  }
  return out;
}

}  // namespace affinity::storage
