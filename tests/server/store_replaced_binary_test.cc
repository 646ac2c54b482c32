// affinity-server whose store directory is deleted, or deleted and created
// again, while it runs: it logs what happened, keeps answering with what it
// had loaded, never follows the new store's files (catching up with them
// aborted the process), and refuses admin writes instead of creating a new
// catalog or writing to a store it does not serve.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using testing::kServerBinary;
using testing::LoggedPort;
using testing::ReadFile;
using testing::Spawn;
using testing::TestModel;
using testing::WaitExit;
using testing::WaitForLog;

// A model store with one published version of `model` and a catalog of its
// items, at `db`.
void MakeStore(const std::string& db, const TestModel& model) {
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(testing::Publish(store->get(), model).ok());
  auto catalog = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kReadWrite);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  std::vector<CatalogItem> items(model.items);
  for (int i = 0; i < model.items; ++i) items[i].set_item_id(TestModel::ItemId(i));
  ASSERT_TRUE((*catalog)->Upsert(items).ok());
}

class StoreReplacedBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestCaseDir();
    db_ = dir_ + "/db";
    log_ = dir_ + "/server.log";
    std::filesystem::create_directories(dir_);
    ASSERT_NO_FATAL_FAILURE(MakeStore(db_, testing::MakeImplicitModel(5, 20, 100, 8, 10)));
    pid_ = Spawn({kServerBinary, "--db=" + db_, "--listen=127.0.0.1:0", "--metrics_listen=",
                  "--admin_listen=127.0.0.1:0", "--instance=replaced", "--poll_ms=100",
                  "--catalog_poll_ms=100"},
                 log_);
    const std::string text = WaitForLog(log_, "routing (rollout revision");
    const std::optional<int> port = LoggedPort(text, "started: grpc");
    const std::optional<int> admin_port = LoggedPort(text, "admin services on");
    ASSERT_TRUE(port.has_value() && admin_port.has_value()) << text;
    stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));
    auto admin = grpc::CreateChannel("127.0.0.1:" + std::to_string(*admin_port),
                                     grpc::InsecureChannelCredentials());
    catalog_admin_ = affinity::v1::CatalogAdmin::NewStub(admin);
    rollout_admin_ = affinity::v1::RolloutAdmin::NewStub(admin);
    before_ = Recommend();
    ASSERT_EQ(before_.items_size(), 10);
  }

  void TearDown() override {
    // Closing the channels first lets the server's drain end at once.
    stub_.reset();
    catalog_admin_.reset();
    rollout_admin_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(log_);
    }
  }

  affinity::v1::RecommendResponse Recommend() {
    affinity::v1::RecommendRequest request;
    request.set_user_id(TestModel::UserId(1));
    request.set_k(10);
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub_->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << ReadFile(log_);
    return response;
  }

  // The server answers as it did before the store went away.
  void ExpectSameAnswer() {
    const affinity::v1::RecommendResponse now = Recommend();
    EXPECT_EQ(now.model_version(), before_.model_version());
    ASSERT_EQ(now.items_size(), before_.items_size());
    for (int i = 0; i < now.items_size(); ++i) {
      EXPECT_EQ(now.items(i).item_id(), before_.items(i).item_id());
    }
  }

  grpc::Status UpsertOneItem() {
    affinity::v1::UpsertItemsRequest upsert;
    upsert.add_items()->set_item_id("written-after-the-deletion");
    affinity::v1::UpsertItemsResponse upserted;
    grpc::ClientContext context;
    return catalog_admin_->UpsertItems(&context, upsert, &upserted);
  }

  std::string dir_, db_, log_;
  pid_t pid_ = -1;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> catalog_admin_;
  std::unique_ptr<affinity::v1::RolloutAdmin::Stub> rollout_admin_;
  affinity::v1::RecommendResponse before_;
};

TEST_F(StoreReplacedBinaryTest, ADeletedStoreIsLoggedStillServedAndNotCreatedByAnAdminWrite) {
  std::filesystem::remove_all(db_);
  // A poll in the middle of the removal may first fail otherwise (a file
  // gone before its directory); the deletion itself is reported next.
  std::string text = WaitForLog(log_, "model poll failed: FAILED_PRECONDITION");
  EXPECT_NE(text.find("model poll failed: FAILED_PRECONDITION: " + db_ +
                      "/models: the database was deleted since this process opened it"),
            std::string::npos)
      << text;
  text = WaitForLog(log_, "catalog refresh failed");
  EXPECT_NE(text.find("catalog refresh failed: FAILED_PRECONDITION: " + db_ + "/catalog: "),
            std::string::npos)
      << text;
  ExpectSameAnswer();

  const grpc::Status written = UpsertOneItem();
  EXPECT_EQ(written.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(written.error_message().rfind("nothing written: " + db_ + "/catalog: ", 0), 0u)
      << written.error_message();
  EXPECT_FALSE(std::filesystem::exists(db_ + "/catalog"));

  affinity::v1::RolloutStatus rollout;
  grpc::ClientContext context;
  EXPECT_EQ(rollout_admin_->GetRollout(&context, {}, &rollout).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ExpectSameAnswer();
}

TEST_F(StoreReplacedBinaryTest, AStoreCreatedAgainAndPublishedToIsNotFollowed) {
  std::filesystem::remove_all(db_);
  const TestModel other = testing::MakeImplicitModel(9, 30, 60, 8, 10);
  ASSERT_NO_FATAL_FAILURE(MakeStore(db_, other));
  {
    // A second publish: catching up with it used to abort the server.
    auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), other).ok());
  }
  const std::string text = WaitForLog(log_, "model poll failed: FAILED_PRECONDITION");
  EXPECT_NE(text.find("model poll failed: FAILED_PRECONDITION: " + db_ + "/models: the database "
                      "was deleted"),
            std::string::npos)
      << text;
  WaitForLog(log_, "catalog refresh failed");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // ten more polls of each
  ASSERT_EQ(testing::WaitExitFor(pid_, 0), std::nullopt) << ReadFile(log_);
  ExpectSameAnswer();

  // Writes through the admin port do not reach the new store.
  const grpc::Status written = UpsertOneItem();
  EXPECT_EQ(written.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << written.error_message();
  affinity::v1::UpdateRolloutRequest update;
  update.set_expected_revision(0);
  update.mutable_state()->set_control_version(1);
  update.set_action("pin");
  affinity::v1::RolloutStatus rollout;
  grpc::ClientContext context;
  const grpc::Status pinned = rollout_admin_->UpdateRollout(&context, update, &rollout);
  EXPECT_EQ(pinned.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << pinned.error_message();
  auto catalog = storage::CatalogStore::Open(db_, storage::CatalogStore::Mode::kFollower);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_TRUE(absl::IsNotFound((*catalog)->Get("written-after-the-deletion").status()));
  auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto state = (*store)->GetRollout();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->revision(), 0u);
}

}  // namespace
}  // namespace affinity::server
