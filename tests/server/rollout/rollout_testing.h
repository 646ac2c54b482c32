// Helpers for the rollout tests on the serving path. The expected arm of a
// unit is computed from the published bucket contract alone
// (server/rollout/bucketing.h: SHA-256 of salt + "/" + unit through
// OpenSSL, the first 8 bytes big-endian mod 10000, non-control arms at the
// top of 0..9999 in declared order), never through server/rollout, so that
// it checks the server rather than repeats it. Rollout changes are written
// through ModelStore::UpdateRollout as the CLI and RolloutAdmin write them.
// Not thread-safe beyond what the store is; failures are gtest failures or
// absl::Status.
#ifndef AFFINITY_TESTS_SERVER_ROLLOUT_ROLLOUT_TESTING_H_
#define AFFINITY_TESTS_SERVER_ROLLOUT_ROLLOUT_TESTING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/recommender.pb.h"
#include "affinity/v1/rollout.pb.h"
#include "storage/model_store.h"

namespace affinity::server::testing {

// A declared arm: name and basis points (the first is control, with what
// the others leave).
struct ExpectedArmShare {
  std::string name;
  int32_t basis_points = 0;
};

// bucket = first 8 bytes of SHA-256(salt + "/" + unit), big-endian, mod 10000.
uint32_t ContractBucket(const std::string& salt, const std::string& unit);

// The arm `unit` belongs to under `arms` (control first).
std::string ContractArm(const std::string& salt, const std::string& unit,
                        const std::vector<ExpectedArmShare>& arms);

// "user-<i>" ids 0..n-1 of synthetic units (not necessarily in any model).
std::string SyntheticUser(int i);

// Reads the stored state, applies `edit` and stores it as the next
// revision with `action` in the history. Returns the stored state.
absl::StatusOr<affinity::v1::RolloutState> EditRollout(
    storage::ModelStore& store, const std::string& action,
    const std::function<void(affinity::v1::RolloutState&)>& edit);

// Sets the explicit arms (control's share is what they leave) and the salt.
absl::StatusOr<affinity::v1::RolloutState> SetArms(
    storage::ModelStore& store, const std::string& salt,
    const std::vector<affinity::v1::RolloutArm>& arms);

affinity::v1::RolloutArm Arm(const std::string& name, uint64_t version, int32_t basis_points);

// Fraction of `units` per arm, from arm counts.
std::map<std::string, double> Fractions(const std::map<std::string, int>& counts);

// Requests and outcomes expected per (arm, model version, forced).
struct ArmTally {
  int64_t requests = 0;
  int64_t impressions = 0;
  int64_t clicks = 0;
};
using ArmKey = std::tuple<std::string, uint64_t, bool>;

// What the web backend reports for `answers`: an impression of every item
// and a click on the first item of every other answer, each outcome naming
// only its answer's request_id, at `at` + the answer's index (clicks half a
// second later). Adds them to (*tally)[answer's arm, version, forced].
affinity::v1::ReportOutcomeRequest OutcomesFor(
    const std::vector<affinity::v1::RecommendResponse>& answers, int64_t at,
    std::map<ArmKey, ArmTally>* tally);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_ROLLOUT_ROLLOUT_TESTING_H_
