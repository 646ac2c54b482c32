// affinity-server's admin token (--admin_token_file): every admin call
// carries "authorization: Bearer TOKEN" or is UNAUTHENTICATED; an admin port
// reachable from other hosts without a token, and a token file that is
// empty or open to every user, stop the server at start with exit 2.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/rpc/admin_auth.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;

class AdminTokenBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestCaseDir();
    db_ = dir_ + "/db";
    auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 100, 8, 10)).ok());
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(testing::WaitExit(pid_), 0);
    }
  }

  std::string WriteToken(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }

  std::vector<std::string> Args(const std::string& admin_listen) const {
    return {kServerBinary,  "--db=" + db_,    "--listen=127.0.0.1:0", "--metrics_listen=",
            "--admin_listen=" + admin_listen, "--poll_ms=100"};
  }

  // Runs the server to its exit (stopping it if it does start).
  int RunToExit(std::vector<std::string> args, std::string* log_text) {
    const std::string log = dir_ + "/exit.log";
    const pid_t pid = testing::Spawn(args, log);
    std::optional<int> code = testing::WaitExitFor(pid, 10000);
    if (!code.has_value()) {
      kill(pid, SIGTERM);
      code = testing::WaitExit(pid);
    }
    *log_text = testing::ReadFile(log);
    return *code;
  }

  // Starts the server and returns its admin port.
  int Start(std::vector<std::string> args) {
    const std::string log = dir_ + "/server.log";
    pid_ = testing::Spawn(args, log);
    const std::string text = testing::WaitForLog(log, "routing (rollout revision");
    const std::optional<int> port = testing::LoggedPort(text, "admin services on");
    EXPECT_TRUE(port.has_value()) << text;
    return port.value_or(0);
  }

  std::string dir_, db_;
  pid_t pid_ = -1;
};

// GetRollout on `port` with `authorization` metadata (none when empty).
grpc::Status GetRollout(int port, const std::string& authorization) {
  auto stub = affinity::v1::RolloutAdmin::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  affinity::v1::RolloutStatus response;
  return stub->GetRollout(&context, affinity::v1::GetRolloutRequest(), &response);
}

grpc::Status Upsert(int port, const std::string& authorization) {
  auto stub = affinity::v1::CatalogAdmin::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  affinity::v1::UpsertItemsRequest request;
  request.add_items()->set_item_id("i0");
  affinity::v1::UpsertItemsResponse response;
  return stub->UpsertItems(&context, request, &response);
}

TEST_F(AdminTokenBinaryTest, NonLoopbackAdminWithoutTokenExits2) {
  std::string text;
  EXPECT_EQ(RunToExit(Args("0.0.0.0:0"), &text), 2) << text;
  EXPECT_NE(text.find("--admin_listen=0.0.0.0:0 is not a loopback address"), std::string::npos)
      << text;
  EXPECT_NE(text.find("--admin_token_file is required"), std::string::npos) << text;
}

TEST_F(AdminTokenBinaryTest, WorldReadableTokenFileExits2) {
  std::vector<std::string> args = Args("127.0.0.1:0");
  args.push_back("--admin_token_file=" + WriteToken("token", "s3cret\n", 0644));
  std::string text;
  EXPECT_EQ(RunToExit(args, &text), 2) << text;
  EXPECT_NE(text.find("chmod o-rwx"), std::string::npos) << text;
}

TEST_F(AdminTokenBinaryTest, EmptyTokenFileExits2) {
  std::vector<std::string> args = Args("127.0.0.1:0");
  args.push_back("--admin_token_file=" + WriteToken("token", " \n", 0600));
  std::string text;
  EXPECT_EQ(RunToExit(args, &text), 2) << text;
  EXPECT_NE(text.find("empty, expected a token"), std::string::npos) << text;
}

TEST_F(AdminTokenBinaryTest, EveryAdminCallNeedsTheToken) {
  std::vector<std::string> args = Args("127.0.0.1:0");
  args.push_back("--admin_token_file=" + WriteToken("token", "s3cret\n", 0600));
  const int port = Start(args);
  ASSERT_GT(port, 0);
  EXPECT_EQ(GetRollout(port, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetRollout(port, "Bearer s3cre").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetRollout(port, "Bearer s3cret2").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetRollout(port, "s3cret").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Upsert(port, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Upsert(port, "Bearer wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status get = GetRollout(port, "Bearer s3cret");
  EXPECT_TRUE(get.ok()) << get.error_message();
  const grpc::Status upsert = Upsert(port, "Bearer s3cret");
  EXPECT_TRUE(upsert.ok()) << upsert.error_message();
}

TEST_F(AdminTokenBinaryTest, NonLoopbackAdminWithTokenServes) {
  std::vector<std::string> args = Args("0.0.0.0:0");
  args.push_back("--admin_token_file=" + WriteToken("token", "s3cret", 0600));
  const int port = Start(args);
  ASSERT_GT(port, 0);
  EXPECT_EQ(GetRollout(port, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status get = GetRollout(port, "Bearer s3cret");
  EXPECT_TRUE(get.ok()) << get.error_message();
}

TEST(IsLoopbackListenTest, OnlyThisHostsAddresses) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:50052"));
  EXPECT_TRUE(IsLoopbackListen("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackListen("localhost:50052"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:50052"));
  EXPECT_TRUE(IsLoopbackListen("unix:/run/affinity/admin.sock"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:50052"));
  EXPECT_FALSE(IsLoopbackListen("[::]:50052"));
  EXPECT_FALSE(IsLoopbackListen("10.0.0.7:50052"));
  EXPECT_FALSE(IsLoopbackListen("127.0.0.1.example.com:50052"));
  EXPECT_FALSE(IsLoopbackListen("admin.example.com:50052"));
  EXPECT_FALSE(IsLoopbackListen(":50052"));
}

}  // namespace
}  // namespace affinity::server
