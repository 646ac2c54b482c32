#include "server/rpc/rollout_admin_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

constexpr int kDefaultHistoryLimit = 20;
constexpr int kMaxHistoryLimit = 1000;

// absl and gRPC share the canonical code numbers.
grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace

RolloutAdminService::RolloutAdminService(std::string store_dir, FollowerStore follower,
                                         RolloutAdminOptions options)
    : store_dir_(std::move(store_dir)), follower_(std::move(follower)), options_(options) {}

grpc::Status RolloutAdminService::Follower(storage::ModelStore** store) const {
  *store = follower_ ? follower_() : nullptr;
  if (*store == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the server has not opened its model store yet, retry");
  }
  if (absl::Status s = (*store)->Refresh(); !s.ok()) return ToGrpc(s);
  return grpc::Status::OK;
}

grpc::Status RolloutAdminService::GetRollout(grpc::ServerContext* context,
                                             const affinity::v1::GetRolloutRequest*,
                                             affinity::v1::RolloutStatus* response) {
  if (grpc::Status s = CheckAdminAuth(auth_, context); !s.ok()) return s;
  storage::ModelStore* store = nullptr;
  if (grpc::Status s = Follower(&store); !s.ok()) return s;
  absl::StatusOr<affinity::v1::RolloutStatus> status =
      rollout::ReadRolloutStatus(*store, store_dir_);
  if (!status.ok()) return ToGrpc(status.status());
  *response = *std::move(status);
  return grpc::Status::OK;
}

grpc::Status RolloutAdminService::UpdateRollout(grpc::ServerContext* context,
                                                const affinity::v1::UpdateRolloutRequest* request,
                                                affinity::v1::RolloutStatus* response) {
  if (grpc::Status s = CheckAdminAuth(auth_, context); !s.ok()) return s;
  storage::RolloutChangeInfo change;
  change.by =
      request->by().empty() ? absl::StrCat("RolloutAdmin client ", context->peer()) : request->by();
  change.action = request->action();
  change.reason = request->reason();
  // A store deleted, or created again, since the server opened it is not
  // the one it serves: its follower refuses to refresh, and so do writes.
  if (storage::ModelStore* store = follower_ ? follower_() : nullptr; store != nullptr) {
    if (absl::Status s = store->Refresh(); !s.ok()) return ToGrpc(s);
  }
  absl::MutexLock lock(&write_mutex_);
  absl::StatusOr<affinity::v1::RolloutStatus> status = rollout::WriteRollout(
      store_dir_, request->expected_revision(), request->state(), change, options_.lock_wait_ms);
  if (!status.ok()) return ToGrpc(status.status());
  *response = *std::move(status);
  return grpc::Status::OK;
}

grpc::Status RolloutAdminService::RolloutHistory(grpc::ServerContext* context,
                                                 const affinity::v1::RolloutHistoryRequest* request,
                                                 affinity::v1::RolloutHistoryResponse* response) {
  if (grpc::Status s = CheckAdminAuth(auth_, context); !s.ok()) return s;
  if (request->limit() < 0 || request->limit() > kMaxHistoryLimit) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("limit: ", request->limit(), ", expected 0..",
                                     kMaxHistoryLimit, " (0: ", kDefaultHistoryLimit, ")"));
  }
  storage::ModelStore* store = nullptr;
  if (grpc::Status s = Follower(&store); !s.ok()) return s;
  const int limit = request->limit() == 0 ? kDefaultHistoryLimit : request->limit();
  absl::StatusOr<std::vector<affinity::v1::RolloutChange>> changes =
      store->RolloutHistory(static_cast<size_t>(limit));
  if (!changes.ok()) return ToGrpc(changes.status());
  for (affinity::v1::RolloutChange& change : *changes) {
    *response->add_changes() = std::move(change);
  }
  response->set_store(store_dir_);
  return grpc::Status::OK;
}

}  // namespace affinity::server
