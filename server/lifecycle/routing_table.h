// RoutingTable: which loaded model version serves which arm, and which
// arm a request goes to. An immutable snapshot built from a resolved
// rollout (storage/rollout_resolver.h) and the loaded versions; the
// ModelManager swaps whole tables, so a request routed by one table keeps
// its model to the end. Thread-safe (immutable).
//
// Routing: bucket = RolloutBucket(salt, unit) (server/rollout/bucketing.h),
// where the unit is the request's user id, else its session id; a request
// with neither goes to control. The arms lay out over the buckets as
// ArmLayout says (control at the bottom, the other arms from the top, in
// order). A request may force an arm by name (QA); forced requests are
// flagged so that they are counted apart.
#ifndef AFFINITY_SERVER_LIFECYCLE_ROUTING_TABLE_H_
#define AFFINITY_SERVER_LIFECYCLE_ROUTING_TABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/rollout.pb.h"
#include "server/lifecycle/loaded_model.h"
#include "server/rollout/bucketing.h"

namespace affinity::server {

struct ArmServable {
  std::string name;
  uint64_t version = 0;
  int32_t basis_points = 0;
  std::shared_ptr<const LoadedModel> model;
};

class RoutingTable {
 public:
  struct Route {
    std::shared_ptr<const LoadedModel> model;
    std::string arm;
    bool forced = false;
  };

  // Every arm's version must be in `loaded`, except that an arm whose
  // version is missing (it failed to load) is left out and its buckets go to
  // control, with a line in *warnings. FailedPrecondition when control's
  // version is missing. The shadow is kept when its version is loaded.
  static absl::StatusOr<std::shared_ptr<const RoutingTable>> Build(
      const affinity::v1::ResolvedRollout& rollout,
      const std::map<uint64_t, std::shared_ptr<const LoadedModel>>& loaded,
      std::vector<std::string>* warnings);

  // The arm of `unit` (empty: control), or the forced arm. InvalidArgument
  // names the arms when forced_arm is not one of them.
  absl::StatusOr<Route> RouteUnit(absl::string_view unit, absl::string_view forced_arm) const;

  const std::vector<ArmServable>& arms() const { return arms_; }
  const ArmServable& control() const { return arms_.front(); }
  // Null when no shadow runs.
  const std::shared_ptr<const LoadedModel>& shadow() const { return shadow_; }
  int32_t shadow_basis_points() const { return shadow_basis_points_; }
  const std::string& salt() const { return salt_; }
  uint64_t revision() const { return revision_; }
  // Versions the table holds (arms and shadow).
  std::set<uint64_t> versions() const;
  // Their models, one per version (arms first, then the shadow).
  std::vector<std::shared_ptr<const LoadedModel>> models() const;
  // "control=v12 (90%), treatment=v13 (10%), shadow v14 (5%)".
  std::string Describe() const;

 private:
  RoutingTable(std::string salt, uint64_t revision, std::vector<ArmServable> arms,
               rollout::ArmLayout layout)
      : salt_(std::move(salt)),
        revision_(revision),
        arms_(std::move(arms)),
        layout_(std::move(layout)) {}

  std::string salt_;
  uint64_t revision_ = 0;
  std::vector<ArmServable> arms_;
  rollout::ArmLayout layout_;
  std::shared_ptr<const LoadedModel> shadow_;
  int32_t shadow_basis_points_ = 0;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_ROUTING_TABLE_H_
