// The `affinity` CLI against a server with TLS (client certificates
// required) and an admin token: with --tls_ca, --tls_cert, --tls_key and
// --admin_token_file its recommend, admin and rollout calls succeed; without
// the token the admin call is refused, without a certificate so is recommend.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_certs.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

constexpr char kCli[] = "tools/affinity";

class CliAccessBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TmpDir() + "/cli_access";
    const std::string db = dir_ + "/db";
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 100, 8, 10)).ok());
    store->reset();
    ASSERT_TRUE(testing::MakeTestCerts(dir_, &certs_));
    token_ = dir_ + "/token";
    std::ofstream(token_) << "t0ken\n";
    chmod(token_.c_str(), 0600);
    const std::string log = dir_ + "/server.log";
    pid_ = testing::Spawn(
        {testing::kServerBinary, "--db=" + db, "--listen=127.0.0.1:0", "--metrics_listen=",
         "--admin_listen=127.0.0.1:0", "--poll_ms=100", "--tls_cert=" + certs_.server.cert,
         "--tls_key=" + certs_.server.key, "--tls_client_ca=" + certs_.ca,
         "--admin_token_file=" + token_},
        log);
    const std::string text = testing::WaitForLog(log, "routing (rollout revision");
    server_ = "127.0.0.1:" + std::to_string(testing::LoggedPort(text, "started: grpc").value_or(0));
    admin_ = "127.0.0.1:" + std::to_string(testing::LoggedPort(text, "admin services on").value_or(0));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(testing::WaitExit(pid_), 0);
    }
  }

  int Cli(std::vector<std::string> args, std::string* log_text) {
    args.insert(args.begin(), kCli);
    const std::string log = dir_ + "/cli.log";
    const int code = testing::WaitExit(testing::Spawn(args, log));
    *log_text = testing::ReadFile(log);
    return code;
  }

  std::vector<std::string> Tls() const {
    return {"--tls_ca=" + certs_.ca, "--tls_cert=" + certs_.client.cert,
            "--tls_key=" + certs_.client.key};
  }

  std::string dir_, token_, server_, admin_;
  testing::TestCerts certs_;
  pid_t pid_ = -1;
};

TEST_F(CliAccessBinaryTest, TlsAndTokenFlagsReachTheServer) {
  std::string text;
  std::vector<std::string> args = {"recommend", "--server=" + server_, "--user=user-0", "--k=3",
                                   "--timeout_ms=10000"};
  for (const std::string& flag : Tls()) args.push_back(flag);
  EXPECT_EQ(Cli(args, &text), 0) << text;

  args = {"recommend", "--server=" + server_, "--user=user-0", "--k=3", "--timeout_ms=10000",
          "--tls_ca=" + certs_.ca};
  EXPECT_NE(Cli(args, &text), 0) << "no client certificate: " << text;

  args = {"admin", "upsert", "--admin_server=" + admin_,
          "--item_json={\"itemId\": \"item-1\", \"inStock\": true}", "--timeout_ms=10000"};
  for (const std::string& flag : Tls()) args.push_back(flag);
  EXPECT_NE(Cli(args, &text), 0) << "no token: " << text;
  EXPECT_NE(text.find("UNAUTHENTICATED"), std::string::npos) << text;
  args.push_back("--admin_token_file=" + token_);
  EXPECT_EQ(Cli(args, &text), 0) << text;

  args = {"rollout", "show", "--admin=" + admin_, "--admin_token_file=" + token_};
  for (const std::string& flag : Tls()) args.push_back(flag);
  EXPECT_EQ(Cli(args, &text), 0) << text;
}

}  // namespace
}  // namespace affinity::server
