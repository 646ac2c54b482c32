#include "tests/server/rollout/rollout_testing.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace affinity::server::testing {

uint32_t ContractBucket(const std::string& salt, const std::string& unit) {
  const std::string input = salt + "/" + unit;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  uint64_t head = 0;
  for (int i = 0; i < 8; ++i) head = (head << 8) | digest[i];
  return static_cast<uint32_t>(head % 10000);
}

std::string ContractArm(const std::string& salt, const std::string& unit,
                        const std::vector<ExpectedArmShare>& arms) {
  int32_t others = 0;
  for (size_t i = 1; i < arms.size(); ++i) others += arms[i].basis_points;
  const int32_t bucket = static_cast<int32_t>(ContractBucket(salt, unit));
  int32_t begin = 10000 - others;
  if (bucket < begin) return arms[0].name;
  for (size_t i = 1; i < arms.size(); ++i) {
    if (bucket < begin + arms[i].basis_points) return arms[i].name;
    begin += arms[i].basis_points;
  }
  return "(none)";
}

std::string SyntheticUser(int i) { return absl::StrCat("user-", i); }

absl::StatusOr<affinity::v1::RolloutState> EditRollout(
    storage::ModelStore& store, const std::string& action,
    const std::function<void(affinity::v1::RolloutState&)>& edit) {
  absl::StatusOr<affinity::v1::RolloutState> current = store.GetRollout();
  if (!current.ok()) return current.status();
  affinity::v1::RolloutState next = *current;
  edit(next);
  return store.UpdateRollout(current->revision(), next,
                             storage::RolloutChangeInfo{"rollout test", action, "test"});
}

absl::StatusOr<affinity::v1::RolloutState> SetArms(
    storage::ModelStore& store, const std::string& salt,
    const std::vector<affinity::v1::RolloutArm>& arms) {
  return EditRollout(store, "set", [&](affinity::v1::RolloutState& state) {
    state.set_salt(salt);
    state.clear_arms();
    for (const affinity::v1::RolloutArm& arm : arms) *state.add_arms() = arm;
  });
}

affinity::v1::RolloutArm Arm(const std::string& name, uint64_t version, int32_t basis_points) {
  affinity::v1::RolloutArm arm;
  arm.set_name(name);
  arm.set_version(version);
  arm.set_basis_points(basis_points);
  return arm;
}

std::map<std::string, double> Fractions(const std::map<std::string, int>& counts) {
  int total = 0;
  for (const auto& [arm, n] : counts) total += n;
  std::map<std::string, double> out;
  for (const auto& [arm, n] : counts) out[arm] = total == 0 ? 0.0 : double(n) / total;
  return out;
}

affinity::v1::ReportOutcomeRequest OutcomesFor(
    const std::vector<affinity::v1::RecommendResponse>& answers, int64_t at,
    std::map<ArmKey, ArmTally>* tally) {
  affinity::v1::ReportOutcomeRequest request;
  for (size_t a = 0; a < answers.size(); ++a) {
    const affinity::v1::RecommendResponse& answer = answers[a];
    const bool forced = answer.request_id().find(".f.") != std::string::npos;
    ArmTally& t = (*tally)[{answer.arm(), answer.model_version(), forced}];
    const int64_t when = at + static_cast<int64_t>(a);
    for (const affinity::v1::ScoredItem& item : answer.items()) {
      affinity::v1::OutcomeReport* o = request.add_outcomes();
      o->set_request_id(answer.request_id());
      o->set_item_id(item.item_id());
      o->set_event(affinity::v1::IMPRESSION);
      o->set_at_unix_micros(when);
      ++t.impressions;
    }
    if (a % 2 == 0 && answer.items_size() > 0) {
      affinity::v1::OutcomeReport* o = request.add_outcomes();
      o->set_request_id(answer.request_id());
      o->set_item_id(answer.items(0).item_id());
      o->set_event(affinity::v1::CLICK);
      o->set_at_unix_micros(when + 500000);
      ++t.clicks;
    }
  }
  return request;
}

}  // namespace affinity::server::testing
