#include "tools/cli/rollout_target.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/rollout/rollout_status.h"

namespace affinity::cli {
namespace {

using affinity::v1::RolloutChange;
using affinity::v1::RolloutState;
using affinity::v1::RolloutStatus;

class StoreTarget final : public RolloutTarget {
 public:
  StoreTarget(std::string dir, std::unique_ptr<storage::ModelStore> store)
      : dir_(std::move(dir)), store_(std::move(store)) {}

  const std::string& name() const override { return dir_; }

  absl::StatusOr<RolloutStatus> Get() override {
    return server::rollout::ReadRolloutStatus(*store_, dir_);
  }

  absl::StatusOr<RolloutStatus> Update(uint64_t expected_revision, const RolloutState& next,
                                       const storage::RolloutChangeInfo& change) override {
    if (absl::Status s = server::rollout::ValidateChangeInfo(change); !s.ok()) return s;
    absl::StatusOr<RolloutState> stored = store_->UpdateRollout(expected_revision, next, change);
    if (!stored.ok()) return stored.status();
    return Get();
  }

  absl::StatusOr<std::vector<RolloutChange>> History(int limit) override {
    return store_->RolloutHistory(static_cast<size_t>(limit));
  }

 private:
  const std::string dir_;
  std::unique_ptr<storage::ModelStore> store_;
};

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

class AdminTarget final : public RolloutTarget {
 public:
  AdminTarget(std::string address, int timeout_ms, Connection connection)
      : address_(std::move(address)),
        timeout_ms_(timeout_ms),
        connection_(std::move(connection)),
        stub_(affinity::v1::RolloutAdmin::NewStub(
            grpc::CreateChannel(address_, connection_.credentials))) {}

  const std::string& name() const override { return address_; }

  absl::StatusOr<RolloutStatus> Get() override {
    grpc::ClientContext context;
    SetDeadline(context);
    RolloutStatus response;
    absl::Status status =
        FromGrpc(stub_->GetRollout(&context, affinity::v1::GetRolloutRequest(), &response));
    if (!status.ok()) return status;
    return response;
  }

  absl::StatusOr<RolloutStatus> Update(uint64_t expected_revision, const RolloutState& next,
                                       const storage::RolloutChangeInfo& change) override {
    affinity::v1::UpdateRolloutRequest request;
    request.set_expected_revision(expected_revision);
    *request.mutable_state() = next;
    request.set_by(change.by);
    request.set_action(change.action);
    request.set_reason(change.reason);
    grpc::ClientContext context;
    SetDeadline(context);
    RolloutStatus response;
    absl::Status status = FromGrpc(stub_->UpdateRollout(&context, request, &response));
    if (!status.ok()) return status;
    return response;
  }

  absl::StatusOr<std::vector<RolloutChange>> History(int limit) override {
    affinity::v1::RolloutHistoryRequest request;
    request.set_limit(limit);
    grpc::ClientContext context;
    SetDeadline(context);
    affinity::v1::RolloutHistoryResponse response;
    absl::Status status = FromGrpc(stub_->RolloutHistory(&context, request, &response));
    if (!status.ok()) return status;
    return std::vector<RolloutChange>(response.changes().begin(), response.changes().end());
  }

 private:
  void SetDeadline(grpc::ClientContext& context) const {
    AddAdminToken(connection_, &context);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
  }

  const std::string address_;
  const int timeout_ms_;
  const Connection connection_;
  std::unique_ptr<affinity::v1::RolloutAdmin::Stub> stub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RolloutTarget>> OpenStoreTarget(const std::string& dir,
                                                               TargetAccess access) {
  absl::StatusOr<std::unique_ptr<storage::ModelStore>> store;
  if (access == TargetAccess::kWrite) {
    store = server::rollout::OpenRolloutWriter(dir);
  } else {
    storage::ModelStoreOptions options;
    options.create_if_missing = false;  // a missing store: storage::NoModelStoreError
    store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kFollower, options);
  }
  if (!store.ok()) return store.status();
  return std::unique_ptr<RolloutTarget>(new StoreTarget(dir, *std::move(store)));
}

std::unique_ptr<RolloutTarget> ConnectAdminTarget(const std::string& address, int timeout_ms,
                                                  const Connection& connection) {
  return std::make_unique<AdminTarget>(address, timeout_ms, connection);
}

}  // namespace affinity::cli
