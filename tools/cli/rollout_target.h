// Where `affinity rollout` reads and writes a rollout: a store directory
// (--db=DIR) or a server's RolloutAdmin service (--admin=HOST:PORT), behind
// one interface.
//
// Contract:
//  - A store target opened for reading is a follower (allowed while servers
//    and a trainer use the store); one opened for writing holds the store's
//    write lock from OpenStoreTarget until it is destroyed (waiting up to
//    5 s for another writer: Unavailable "busy, retry: ..."). Neither
//    creates a store: NotFound when DIR/models does not exist.
//  - An admin target makes one RPC per call with a deadline of timeout_ms;
//    gRPC codes come back as the same absl codes.
//  - Errors are the store's or the service's (ModelStore::UpdateRollout
//    documents them), unprefixed. Not thread-safe: one call at a time.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_TARGET_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_TARGET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/rollout.pb.h"
#include "storage/model_store.h"

#include "tools/cli/connection.h"

namespace affinity::cli {

class RolloutTarget {
 public:
  virtual ~RolloutTarget() = default;
  // As given on the command line.
  virtual const std::string& name() const = 0;
  virtual absl::StatusOr<affinity::v1::RolloutStatus> Get() = 0;
  // Stores `next` if the stored revision is expected_revision; returns the
  // status after the write.
  virtual absl::StatusOr<affinity::v1::RolloutStatus> Update(
      uint64_t expected_revision, const affinity::v1::RolloutState& next,
      const storage::RolloutChangeInfo& change) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<affinity::v1::RolloutChange>> History(int limit) = 0;
};

enum class TargetAccess { kRead, kWrite };

absl::StatusOr<std::unique_ptr<RolloutTarget>> OpenStoreTarget(const std::string& dir,
                                                               TargetAccess access);

// Connects lazily: an unreachable server fails the first call (Unavailable).
// Every call carries `connection`'s credentials and admin token.
std::unique_ptr<RolloutTarget> ConnectAdminTarget(const std::string& address, int timeout_ms,
                                                  const Connection& connection = Connection());

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_TARGET_H_
