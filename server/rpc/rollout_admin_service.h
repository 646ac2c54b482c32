// RolloutAdminService: affinity.v1.RolloutAdmin (proto/affinity/v1/admin.proto)
// over the model store a server follows. Reads come from the server's
// follower store (refreshed first, so a read sees every write made before
// it); a write opens DIR/models read-write for that call only (waiting up to
// lock_wait_ms for another writer), stores the change with its history entry
// and closes the store again, so trainers and admin tools are locked out
// only while it runs. Writes of one service are serialized.
//
// Status codes: the store's absl codes map one to one onto gRPC codes
// (ABORTED stale revision, NOT_FOUND unpublished version,
// FAILED_PRECONDITION a version that may not take traffic, INVALID_ARGUMENT
// the field named, UNAVAILABLE "busy, retry" when another process holds the
// write lock or the server has no follower store yet). Reads and writes
// fail with FAILED_PRECONDITION once DIR/models was deleted or created
// again since the follower opened it (storage/rocks_db.h). Thread-safe.
#ifndef AFFINITY_SERVER_RPC_ROLLOUT_ADMIN_SERVICE_H_
#define AFFINITY_SERVER_RPC_ROLLOUT_ADMIN_SERVICE_H_

#include <functional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "server/rpc/admin_auth.h"
#include "server/rollout/rollout_status.h"
#include "storage/model_store.h"

namespace affinity::server {

struct RolloutAdminOptions {
  // How long a write waits for another process's write lock.
  int lock_wait_ms = rollout::kRolloutLockWaitMs;
};

class RolloutAdminService final : public affinity::v1::RolloutAdmin::Service {
 public:
  // Returns the server's follower store, or nullptr while it has none; the
  // store must stay valid while the service runs.
  using FollowerStore = std::function<storage::ModelStore*()>;

  // `store_dir` is the DIR the server serves from (DIR/models).
  RolloutAdminService(std::string store_dir, FollowerStore follower,
                      RolloutAdminOptions options = RolloutAdminOptions());
  // Every call must carry the admin token (admin_auth.h); `auth` outlives
  // the service. Set before serving; unset: no token is asked for.
  void SetAuth(const AdminAuth* auth) { auth_ = auth; }

  grpc::Status GetRollout(grpc::ServerContext* context,
                          const affinity::v1::GetRolloutRequest* request,
                          affinity::v1::RolloutStatus* response) override;
  grpc::Status UpdateRollout(grpc::ServerContext* context,
                             const affinity::v1::UpdateRolloutRequest* request,
                             affinity::v1::RolloutStatus* response) override;
  grpc::Status RolloutHistory(grpc::ServerContext* context,
                              const affinity::v1::RolloutHistoryRequest* request,
                              affinity::v1::RolloutHistoryResponse* response) override;

 private:
  // The refreshed follower, or UNAVAILABLE.
  grpc::Status Follower(storage::ModelStore** store) const;

  const std::string store_dir_;
  const FollowerStore follower_;
  const RolloutAdminOptions options_;
  absl::Mutex write_mutex_;
  const AdminAuth* auth_ = nullptr;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_ROLLOUT_ADMIN_SERVICE_H_
