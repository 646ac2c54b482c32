// affinity.v1.RolloutAdmin in-process over a real store in a temp dir: reads
// through the follower, one-call writes that release the write lock, and the
// store's refusals mapped to gRPC codes.
#include "server/rpc/rollout_admin_service.h"

#include <memory>
#include <string>

#include "affinity/v1/admin.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using ::affinity::storage::ModelStore;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;
using ::affinity::v1::GetRolloutRequest;
using ::affinity::v1::ResolvedRollout;
using ::affinity::v1::RolloutHistoryRequest;
using ::affinity::v1::RolloutHistoryResponse;
using ::affinity::v1::RolloutStatus;
using ::affinity::v1::UpdateRolloutRequest;
using ::testing::HasSubstr;

std::string Arms(const ResolvedRollout& r) {
  std::string out;
  for (const auto& arm : r.arms()) {
    if (!out.empty()) out += " ";
    out +=
        arm.name() + "=" + std::to_string(arm.version()) + ":" + std::to_string(arm.basis_points());
  }
  return out;
}

class RolloutAdminServiceTest : public ::testing::Test {
 protected:
  // Versions 1..3 eligible, 4 refused by the gate (when publish is true).
  void Start(bool publish = true) {
    dir_ = MakeTestDir();
    {
      auto store = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
      ASSERT_TRUE(store.ok()) << store.status();
      if (publish) {
        for (uint32_t seed = 1; seed <= 3; ++seed) {
          ASSERT_EQ(PublishModel(**store, SmallModel::Make(2, 2, 2, seed)), seed);
        }
        SmallModel gated = SmallModel::Make(2, 2, 2, 4);
        gated.ineligible = true;
        ASSERT_EQ(PublishModel(**store, gated), 4u);
      }
    }
    auto follower = ModelStore::Open(dir_, ModelStore::Mode::kFollower);
    ASSERT_TRUE(follower.ok()) << follower.status();
    follower_ = std::move(*follower);
    RolloutAdminOptions options;
    options.lock_wait_ms = 100;
    service_ = std::make_unique<RolloutAdminService>(
        dir_, [this] { return follower_.get(); }, options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = affinity::v1::RolloutAdmin::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  grpc::Status Get(RolloutStatus* out) {
    grpc::ClientContext context;
    return stub_->GetRollout(&context, GetRolloutRequest(), out);
  }

  grpc::Status Update(const UpdateRolloutRequest& request, RolloutStatus* out) {
    grpc::ClientContext context;
    return stub_->UpdateRollout(&context, request, out);
  }

  // control pinned to 1, arm "treatment" on `version` with 10%.
  static UpdateRolloutRequest SetTreatment(uint64_t expected, uint64_t version) {
    UpdateRolloutRequest request;
    request.set_expected_revision(expected);
    request.mutable_state()->set_salt("exp-1");
    request.mutable_state()->set_control_version(1);
    auto* arm = request.mutable_state()->add_arms();
    arm->set_name("treatment");
    arm->set_version(version);
    arm->set_basis_points(1000);
    request.set_by("alice@host via affinity rollout");
    request.set_action("set");
    request.set_reason("try version " + std::to_string(version));
    return request;
  }

  std::string dir_;
  std::unique_ptr<ModelStore> follower_;
  std::unique_ptr<RolloutAdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<affinity::v1::RolloutAdmin::Stub> stub_;
};

TEST_F(RolloutAdminServiceTest, ReadsTheDefaultStateAndItsResolution) {
  Start();
  RolloutStatus status;
  grpc::Status rpc = Get(&status);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_EQ(status.state().revision(), 0u);
  EXPECT_EQ(status.state().control_version(), 0u);
  EXPECT_EQ(Arms(status.resolved()), "control=3:10000");
  EXPECT_EQ(status.store(), dir_);
  EXPECT_EQ(status.unresolved_reason(), "");
}

TEST_F(RolloutAdminServiceTest, AStoreWithoutVersionsIsReadWithTheReason) {
  Start(/*publish=*/false);
  RolloutStatus status;
  grpc::Status rpc = Get(&status);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_EQ(status.resolved().arms_size(), 0);
  EXPECT_THAT(status.unresolved_reason(), HasSubstr("no model version is published"));
}

TEST_F(RolloutAdminServiceTest, AWriteIsStoredReadBackAndReleasesTheStore) {
  Start();
  RolloutStatus written;
  grpc::Status rpc = Update(SetTreatment(0, 2), &written);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_EQ(written.state().revision(), 1u);
  EXPECT_EQ(written.state().updated_by(), "alice@host via affinity rollout");
  EXPECT_EQ(Arms(written.resolved()), "control=1:9000 treatment=2:1000");

  RolloutStatus read;
  ASSERT_TRUE(Get(&read).ok());
  EXPECT_EQ(read.state().revision(), 1u);
  EXPECT_EQ(read.resolved().salt(), "exp-1");
  EXPECT_EQ(Arms(read.resolved()), "control=1:9000 treatment=2:1000");

  grpc::ClientContext context;
  RolloutHistoryRequest request;
  RolloutHistoryResponse history;
  ASSERT_TRUE(stub_->RolloutHistory(&context, request, &history).ok());
  ASSERT_EQ(history.changes_size(), 1);
  EXPECT_EQ(history.changes(0).action(), "set");
  EXPECT_EQ(history.changes(0).reason(), "try version 2");
  EXPECT_EQ(history.changes(0).before().revision(), 0u);
  EXPECT_EQ(history.changes(0).after().arms(0).version(), 2u);

  // The write lock was released: another writer opens at once.
  storage::ModelStoreOptions no_wait;
  no_wait.lock_wait_ms = 0;
  auto writer = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite, no_wait);
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->GetRollout()->revision(), 1u);
}

TEST_F(RolloutAdminServiceTest, AStaleRevisionIsAborted) {
  Start();
  RolloutStatus out;
  ASSERT_TRUE(Update(SetTreatment(0, 2), &out).ok());
  grpc::Status stale = Update(SetTreatment(0, 3), &out);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED) << stale.error_message();
  EXPECT_THAT(stale.error_message(), HasSubstr("revision 1, expected 0"));
  RolloutStatus read;
  ASSERT_TRUE(Get(&read).ok());
  EXPECT_EQ(Arms(read.resolved()), "control=1:9000 treatment=2:1000");
}

TEST_F(RolloutAdminServiceTest, RefusalsCarryTheStoresCodeAndReason) {
  Start();
  RolloutStatus out;
  grpc::Status gated = Update(SetTreatment(0, 4), &out);
  EXPECT_EQ(gated.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(gated.error_message(), HasSubstr("version 4 may not take traffic"));
  EXPECT_THAT(gated.error_message(), HasSubstr("gate refused"));

  grpc::Status unknown = Update(SetTreatment(0, 9), &out);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(unknown.error_message(), HasSubstr("version 9 is not a published version"));

  UpdateRolloutRequest too_much = SetTreatment(0, 2);
  too_much.mutable_state()->mutable_arms(0)->set_basis_points(10001);
  grpc::Status invalid = Update(too_much, &out);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(invalid.error_message(), HasSubstr("arms[0].basis_points"));

  UpdateRolloutRequest long_reason = SetTreatment(0, 2);
  long_reason.set_reason(std::string(1025, 'x'));
  grpc::Status reason = Update(long_reason, &out);
  EXPECT_EQ(reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reason.error_message(), HasSubstr("reason: 1025 bytes"));

  RolloutStatus read;
  ASSERT_TRUE(Get(&read).ok());
  EXPECT_EQ(read.state().revision(), 0u);
}

TEST_F(RolloutAdminServiceTest, AnotherWriterMakesAWriteUnavailable) {
  Start();
  auto holder = ModelStore::Open(dir_, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(holder.ok()) << holder.status();
  RolloutStatus out;
  grpc::Status busy = Update(SetTreatment(0, 2), &out);
  EXPECT_EQ(busy.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(busy.error_message(), HasSubstr("busy, retry"));
  holder->reset();
  EXPECT_TRUE(Update(SetTreatment(0, 2), &out).ok());
}

TEST(RolloutAdminServiceNoStoreTest, ReadsAreUnavailableWithoutAFollower) {
  RolloutAdminService service("/nonexistent", [] { return nullptr; });
  RolloutStatus out;
  grpc::Status status = service.GetRollout(nullptr, nullptr, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace affinity::server
