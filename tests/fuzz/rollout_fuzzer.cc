// Fuzz target: the user-provided rollout configuration: the words of
// `affinity rollout ...` (tools/cli/rollout_args.h) and a stored
// affinity.v1.RolloutState as the store and the servers read it
// (storage/rollout_resolver.h), then the change the command computes from
// it (tools/cli/rollout_transitions.h), as tools/cli/rollout_command.cc
// dispatches it, and the arm layout the servers build from a resolution
// (server/rollout/bucketing.h, as server/lifecycle/routing_table.cc).
//
// Input: one byte (how many versions 1..N are published) and one byte (which
// of them the gate refused), the command words separated by '\n' up to a NUL
// byte, then the serialized RolloutState.
// Invariants checked beyond "no crash": parsed arguments hold what the
// command dispatch dereferences; a resolution of a valid state puts
// "control" first, has shares adding up to 10,000, uses only published
// versions, refers to its control version, and yields an arm layout.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/rollout.pb.h"
#include "server/rollout/bucketing.h"
#include "storage/rollout_resolver.h"
#include "tests/fuzz/fuzz_input.h"
#include "tools/cli/rollout_args.h"
#include "tools/cli/rollout_format.h"
#include "tools/cli/rollout_transitions.h"

namespace {

using affinity::v1::ResolvedRollout;
using affinity::v1::RolloutState;
using affinity::v1::RolloutStatus;
using namespace affinity;

// What the store and the servers do with a state; the resolution, if any.
bool CheckResolution(const RolloutState& state, const std::vector<storage::VersionInfo>& versions,
                     ResolvedRollout* out) {
  if (!storage::ValidateRolloutState(state).ok()) return false;
  cli::SummarizeState(state);
  absl::StatusOr<ResolvedRollout> resolved = storage::ResolveRollout(state, versions);
  if (!resolved.ok()) return false;
  FUZZ_CHECK(resolved->arms_size() >= 1, "no arm");
  FUZZ_CHECK(resolved->arms(0).name() == storage::kControlArmName, resolved->arms(0).name());
  int64_t total = 0;
  std::vector<server::rollout::ArmShare> shares;
  for (const affinity::v1::ResolvedArm& arm : resolved->arms()) {
    FUZZ_CHECK(arm.basis_points() >= 0 && arm.basis_points() <= storage::kTotalBasisPoints,
               absl::StrCat(arm.name(), ": ", arm.basis_points()));
    total += arm.basis_points();
    bool published = false;
    for (const storage::VersionInfo& v : versions) published |= v.version == arm.version();
    FUZZ_CHECK(published, absl::StrCat(arm.name(), ": version ", arm.version()));
    shares.push_back({arm.name(), static_cast<uint32_t>(arm.basis_points())});
  }
  FUZZ_CHECK(total == storage::kTotalBasisPoints, absl::StrCat("shares add up to ", total));
  absl::StatusOr<server::rollout::ArmLayout> layout = server::rollout::ArmLayout::Create(shares);
  FUZZ_CHECK(layout.ok(), layout.status().ToString());
  const std::set<uint64_t> referenced = storage::ReferencedVersions(state, &*resolved);
  FUZZ_CHECK(referenced.count(resolved->arms(0).version()) == 1, "control not referenced");
  *out = *std::move(resolved);
  return true;
}

// tools/cli/rollout_command.cc's dispatch of a write command.
absl::StatusOr<cli::RolloutEdit> Edit(const cli::RolloutArgs& args,
                                      const RolloutStatus& current) {
  const std::string& command = args.subcommand;
  if (command == "set") {
    FUZZ_CHECK(args.arm.has_value(), "set without --arm");
    return cli::SetArm(current, *args.arm, args.version, args.fraction_bp);
  }
  if (command == "promote") return cli::Promote(current, args.arm);
  if (command == "rollback") return cli::Rollback(current);
  if (command == "shadow") return cli::SetShadow(current, args.version, args.fraction_bp);
  FUZZ_CHECK(command == "policy", command);
  FUZZ_CHECK(args.mode.has_value(), "policy without --mode");
  cli::PolicyChange change;
  change.mode = *args.mode;
  change.canary_basis_points = args.canary_fraction_bp;
  if (args.auto_promote_min_impressions.has_value()) {
    FUZZ_CHECK(args.auto_promote_max_ctr_drop.has_value(), "min impressions without ctr drop");
    affinity::v1::AutoPromoteRule rule;
    rule.set_enabled(true);
    rule.set_min_impressions(*args.auto_promote_min_impressions);
    rule.set_max_ctr_drop(*args.auto_promote_max_ctr_drop);
    change.auto_promote = rule;
  }
  change.disable_auto_promote = args.no_auto_promote;
  return cli::SetPolicy(current, change);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  const int published = in.TakeByte() % 8;
  const uint8_t refused = in.TakeByte();
  std::vector<storage::VersionInfo> versions(published);
  for (int i = 0; i < published; ++i) {
    versions[i].version = static_cast<uint64_t>(i + 1);
    versions[i].metadata.set_version(versions[i].version);
    versions[i].metadata.set_ineligible((refused >> i) & 1);
  }
  const absl::string_view words = in.TakeUntil('\0');
  std::vector<std::string> args;
  if (!words.empty()) args = absl::StrSplit(words, '\n');
  absl::StatusOr<cli::RolloutArgs> parsed = cli::ParseRolloutArgs(args);
  if (parsed.ok() && !parsed->help) {
    FUZZ_CHECK(parsed->db.empty() != parsed->admin.empty(), "targets");
    if (parsed->fraction_bp.has_value()) {
      FUZZ_CHECK(*parsed->fraction_bp >= 0 && *parsed->fraction_bp <= storage::kTotalBasisPoints,
                 absl::StrCat("fraction ", *parsed->fraction_bp));
    }
  }

  RolloutState state;
  const absl::string_view stored = in.rest();
  if (!state.ParseFromArray(stored.data(), static_cast<int>(stored.size()))) return 0;
  RolloutStatus current;
  *current.mutable_state() = state;
  if (!CheckResolution(state, versions, current.mutable_resolved())) {
    current.clear_resolved();
    current.set_unresolved_reason("nothing can serve");
    if (!storage::ValidateRolloutState(state).ok()) return 0;  // never stored
  }
  cli::SummarizeResolved(current);
  if (!parsed.ok() || parsed->help) return 0;
  const std::string& command = parsed->subcommand;
  if (command == "show" || command == "history" || command == "status") return 0;
  absl::StatusOr<cli::RolloutEdit> edit = Edit(*parsed, current);
  if (!edit.ok()) return 0;
  cli::DescribeStateChange(state, edit->next);
  // The store validates and resolves the new state before writing it.
  ResolvedRollout after;
  CheckResolution(edit->next, versions, &after);
  return 0;
}
