#include "server/rollout/bucketing.h"

#include <openssl/sha.h>

#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server::rollout {

uint32_t RolloutBucket(absl::string_view salt, absl::string_view unit_id) {
  const std::string input = absl::StrCat(salt, "/", unit_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | digest[i];
  return static_cast<uint32_t>(prefix % kBuckets);
}

absl::StatusOr<ArmLayout> ArmLayout::Create(absl::Span<const ArmShare> arms) {
  if (arms.empty()) {
    return absl::InvalidArgumentError(
        "arms: no arm declared, expected a control arm first");
  }
  absl::flat_hash_set<absl::string_view> names;
  uint64_t total = 0;
  uint64_t treatments = 0;
  for (size_t i = 0; i < arms.size(); ++i) {
    const ArmShare& arm = arms[i];
    if (arm.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("arms[", i, "]: empty name, expected an arm name"));
    }
    if (!names.insert(arm.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "arms[", i, "] \"", arm.name, "\": name repeated, expected distinct names"));
    }
    total += arm.basis_points;
    if (i > 0) treatments += arm.basis_points;
  }
  if (total != kBuckets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arms: basis points add up to ", total, ", expected ", kBuckets,
        " (control \"", arms[0].name, "\" has ", arms[0].basis_points, ")"));
  }
  std::vector<ArmRange> ranges;
  ranges.reserve(arms.size());
  const uint32_t control_end = kBuckets - static_cast<uint32_t>(treatments);
  ranges.push_back(ArmRange{arms[0].name, 0, control_end});
  uint32_t next = control_end;
  for (size_t i = 1; i < arms.size(); ++i) {
    ranges.push_back(ArmRange{arms[i].name, next, next + arms[i].basis_points});
    next += arms[i].basis_points;
  }
  return ArmLayout(std::move(ranges));
}

size_t ArmLayout::ArmIndexForBucket(uint32_t bucket) const {
  bucket %= kBuckets;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (bucket >= ranges_[i].begin && bucket < ranges_[i].end) return i;
  }
  return 0;  // unreachable: the ranges cover [0, kBuckets)
}

const std::string& ArmLayout::ArmForBucket(uint32_t bucket) const {
  return ranges_[ArmIndexForBucket(bucket)].name;
}

}  // namespace affinity::server::rollout
