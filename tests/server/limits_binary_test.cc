// affinity-server's request limits as its flags set them, on both gRPC
// ports: a request message over --max_message_bytes is RESOURCE_EXHAUSTED,
// and fields over --max_recent, --max_exclude_items, --max_id_bytes,
// --max_admin_items and --max_item_bytes are INVALID_ARGUMENT naming the
// field and the limit.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;

class LimitsBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestCaseDir();
    const std::string db = dir_ + "/db";
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 100, 8, 10)).ok());
    store->reset();
    const std::string log = dir_ + "/server.log";
    pid_ = testing::Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0",
                           "--metrics_listen=", "--admin_listen=127.0.0.1:0", "--poll_ms=100",
                           "--max_message_bytes=4096", "--max_recent=2", "--max_exclude_items=3",
                           "--max_id_bytes=16", "--max_admin_items=2", "--max_item_bytes=100"},
                          log);
    const std::string text = testing::WaitForLog(log, "routing (rollout revision");
    const int port = testing::LoggedPort(text, "started: grpc").value_or(0);
    const int admin_port = testing::LoggedPort(text, "admin services on").value_or(0);
    ASSERT_GT(port, 0) << text;
    ASSERT_GT(admin_port, 0) << text;
    recommender_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    admin_ = affinity::v1::CatalogAdmin::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(admin_port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(testing::WaitExit(pid_), 0);
    }
  }

  grpc::Status Recommend(const affinity::v1::RecommendRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    affinity::v1::RecommendResponse response;
    return recommender_->Recommend(&context, request, &response);
  }

  grpc::Status Upsert(const affinity::v1::UpsertItemsRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    affinity::v1::UpsertItemsResponse response;
    return admin_->UpsertItems(&context, request, &response);
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::unique_ptr<affinity::v1::Recommender::Stub> recommender_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> admin_;
};

affinity::v1::RecommendRequest Request() {
  affinity::v1::RecommendRequest request;
  request.set_user_id(testing::TestModel::UserId(0));
  request.set_k(5);
  return request;
}

void ExpectInvalid(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

TEST_F(LimitsBinaryTest, MessagesOverMaxMessageBytesAreRefusedOnBothPorts) {
  auto request = Request();
  request.set_session_id(std::string(5000, 's'));
  EXPECT_EQ(Recommend(request).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  affinity::v1::UpsertItemsRequest upsert;
  upsert.add_items()->set_item_id("i0");
  upsert.mutable_items(0)->set_title(std::string(5000, 't'));
  EXPECT_EQ(Upsert(upsert).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const grpc::Status small = Recommend(Request());
  EXPECT_TRUE(small.ok()) << small.error_message();
}

TEST_F(LimitsBinaryTest, RequestFieldsFollowTheFlags) {
  auto request = Request();
  for (int i = 0; i < 3; ++i) request.add_recent()->set_item_id(testing::TestModel::ItemId(i));
  ExpectInvalid(Recommend(request), "recent: at most 2 entries, got 3");
  request = Request();
  for (int i = 0; i < 4; ++i) request.add_exclude_item_ids(testing::TestModel::ItemId(i));
  ExpectInvalid(Recommend(request), "exclude_item_ids: at most 3 entries, got 4");
  request = Request();
  request.set_session_id(std::string(17, 's'));
  ExpectInvalid(Recommend(request), "session_id: at most 16 bytes, got 17");
}

TEST_F(LimitsBinaryTest, AdminCallsFollowTheFlags) {
  affinity::v1::UpsertItemsRequest upsert;
  for (int i = 0; i < 3; ++i) upsert.add_items()->set_item_id(testing::TestModel::ItemId(i));
  ExpectInvalid(Upsert(upsert), "items: at most 2 per call, got 3");
  upsert.mutable_items()->RemoveLast();
  upsert.mutable_items(1)->set_title(std::string(200, 't'));
  ExpectInvalid(Upsert(upsert), "items[1]: at most 100 bytes serialized, got " +
                                    std::to_string(upsert.items(1).ByteSizeLong()));
  upsert.mutable_items(1)->clear_title();
  const grpc::Status ok = Upsert(upsert);
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

}  // namespace
}  // namespace affinity::server
