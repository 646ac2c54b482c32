// A/B routing: the bucket of a unit (a user, a session) in an experiment,
// and the layout of an experiment's arms over the buckets.
//
// The bucket function is a published contract: the web backend and any
// analysis job must compute the same bucket in any language, so it is fixed
// by these bytes and nothing else:
//
//   digest = SHA-256(UTF-8 bytes of salt + "/" + unit_id)
//   bucket = (first 8 bytes of digest, read as a big-endian unsigned 64-bit
//             integer) mod 10000
//
// e.g. in Python 3:
//   int.from_bytes(hashlib.sha256((salt + "/" + unit_id).encode()).digest()[:8],
//                  "big") % 10000
// server/README.md ("A/B routing: the bucket function") lists test vectors.
//
// Arm layout: arms are declared as (name, basis points), the first one being
// control, and must add up to 10,000. The non-control arms take contiguous
// ranges at the top of 0..9999 in declared order, starting at
// 10000 - (sum of non-control basis points); control takes the rest,
// [0, 10000 - sum). So resizing the first treatment arm moves units only
// between it and control (its range ends where the later arms begin, which
// does not move), and a unit's arm never changes while the layout does not.
//
// Thread safety: RolloutBucket is a pure function; an ArmLayout is immutable
// after Create and safe to share between threads. Errors are returned as
// absl::Status; nothing throws.
#ifndef AFFINITY_SERVER_ROLLOUT_BUCKETING_H_
#define AFFINITY_SERVER_ROLLOUT_BUCKETING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace affinity::server::rollout {

// Buckets per experiment; basis points of all arms add up to this.
inline constexpr uint32_t kBuckets = 10000;

// The bucket in [0, kBuckets) of `unit_id` under `salt` (see above). The
// strings are taken as bytes; callers pass UTF-8.
uint32_t RolloutBucket(absl::string_view salt, absl::string_view unit_id);

// One declared arm: its name and its share of units in basis points
// (1 = 0.01%).
struct ArmShare {
  std::string name;
  uint32_t basis_points = 0;
};

// The buckets [begin, end) an arm owns; empty when its share is 0.
struct ArmRange {
  std::string name;
  uint32_t begin = 0;
  uint32_t end = 0;
};

class ArmLayout {
 public:
  // arms[0] is control. InvalidArgument, naming the arm (as arms[i] "name"),
  // when there is no arm, a name is empty or repeated, or the basis points
  // do not add up to 10,000.
  static absl::StatusOr<ArmLayout> Create(absl::Span<const ArmShare> arms);

  // Index into the declared arms of the arm owning `bucket`; buckets of
  // kBuckets and above are taken modulo kBuckets.
  size_t ArmIndexForBucket(uint32_t bucket) const;
  // Name of that arm.
  const std::string& ArmForBucket(uint32_t bucket) const;

  // One range per declared arm, in declared order.
  const std::vector<ArmRange>& ranges() const { return ranges_; }

 private:
  explicit ArmLayout(std::vector<ArmRange> ranges) : ranges_(std::move(ranges)) {}

  std::vector<ArmRange> ranges_;
};

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_BUCKETING_H_
