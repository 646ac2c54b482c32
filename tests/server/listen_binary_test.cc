// affinity-server's listening addresses are its own: a second server asked
// to listen on an address a running server holds (--listen or
// --admin_listen) exits 1 naming the flag and the address, and the first
// server keeps answering.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;
using testing::LoggedPort;
using testing::ReadFile;
using testing::Spawn;
using testing::WaitExit;
using testing::WaitForLog;

class ListenBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestCaseDir();
    db_ = dir_ + "/db";
    auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 100, 8, 10)).ok());
    store->reset();
    first_log_ = dir_ + "/first.log";
    first_ = Spawn({kServerBinary, "--db=" + db_, "--listen=127.0.0.1:0", "--metrics_listen=",
                    "--admin_listen=127.0.0.1:0", "--instance=first", "--poll_ms=100"},
                   first_log_);
    const std::string text = WaitForLog(first_log_, "routing (rollout revision");
    const std::optional<int> port = LoggedPort(text, "started: grpc");
    const std::optional<int> admin_port = LoggedPort(text, "admin services on");
    ASSERT_TRUE(port.has_value() && admin_port.has_value()) << text;
    port_ = *port;
    admin_port_ = *admin_port;
  }

  void TearDown() override {
    if (first_ > 0) {
      kill(first_, SIGTERM);
      EXPECT_EQ(WaitExit(first_), 0);
    }
  }

  // Runs a second server on the same store (its own instance) to its exit.
  int RunSecond(const std::string& listen, const std::string& admin_listen,
                std::string* log_text) {
    const std::string log = dir_ + "/second.log";
    const pid_t pid = Spawn({kServerBinary, "--db=" + db_, "--listen=" + listen,
                             "--metrics_listen=", "--admin_listen=" + admin_listen,
                             "--instance=second", "--poll_ms=100"},
                            log);
    // A second server that did start is stopped, so that the test fails
    // rather than hangs.
    std::optional<int> code = testing::WaitExitFor(pid, 10000);
    if (!code.has_value()) {
      kill(pid, SIGTERM);
      code = WaitExit(pid);
    }
    *log_text = ReadFile(log);
    return *code;
  }

  // The first server still answers Recommend with its model.
  void ExpectFirstAnswers() {
    auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
    for (int i = 0; i < 10; ++i) {  // new connections each time
      affinity::v1::RecommendRequest request;
      request.set_user_id(testing::TestModel::UserId(i));
      request.set_k(5);
      affinity::v1::RecommendResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status status = stub->Recommend(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.items_size(), 5);
    }
  }

  std::string dir_, db_, first_log_;
  pid_t first_ = -1;
  int port_ = 0;
  int admin_port_ = 0;
};

TEST_F(ListenBinaryTest, ASecondServerOnTheSameListenAddressExits1) {
  const std::string address = "127.0.0.1:" + std::to_string(port_);
  std::string text;
  EXPECT_EQ(RunSecond(address, "127.0.0.1:0", &text), 1) << text;
  EXPECT_NE(text.find("--listen: cannot listen on \"" + address + "\""), std::string::npos)
      << text;
  ExpectFirstAnswers();
}

TEST_F(ListenBinaryTest, ASecondServerOnTheSameAdminAddressExits1) {
  const std::string address = "127.0.0.1:" + std::to_string(admin_port_);
  std::string text;
  EXPECT_EQ(RunSecond("127.0.0.1:0", address, &text), 1) << text;
  EXPECT_NE(text.find("--admin_listen: cannot listen on \"" + address + "\""), std::string::npos)
      << text;
  ExpectFirstAnswers();
}

}  // namespace
}  // namespace affinity::server
