// affinity-server on a --db that holds no model store exits 1 naming the
// path and creates nothing (a mistyped or unmounted path is not served as
// an empty store); with --create_store it creates one and waits for the
// first version.
#include <signal.h>
#include <sys/stat.h>

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/server/server_process.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;
using testing::ReadFile;
using testing::Spawn;
using testing::WaitExit;
using testing::WaitExitFor;
using testing::WaitForLog;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST(NoStoreBinaryTest, APathWithoutAStoreExits1AndCreatesNothing) {
  const std::string dir = testing::TestCaseDir();
  const std::string db = dir + "/mistyped";
  const std::string log = dir + "/server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0", "--metrics_listen=",
                           "--admin_listen=", "--events=false"},
                          log);
  std::optional<int> code = WaitExitFor(pid, 10000);
  if (!code.has_value()) {  // it started: stop it so that the test fails, not hangs
    kill(pid, SIGTERM);
    code = WaitExit(pid);
  }
  const std::string text = ReadFile(log);
  EXPECT_EQ(*code, 1) << text;
  EXPECT_NE(text.find("no model store at " + db), std::string::npos) << text;
  EXPECT_FALSE(Exists(db)) << db << " was created";
}

TEST(NoStoreBinaryTest, CreateStoreCreatesAnEmptyStoreAndWaits) {
  const std::string dir = testing::TestCaseDir();
  const std::string db = dir + "/new";
  const std::string log = dir + "/server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + db, "--create_store", "--listen=127.0.0.1:0",
                           "--metrics_listen=", "--admin_listen=", "--events=false"},
                          log);
  const std::string text = WaitForLog(log, "started: grpc");
  EXPECT_TRUE(Exists(db + "/models")) << text;
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(log);
}

}  // namespace
}  // namespace affinity::server
