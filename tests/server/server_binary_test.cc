// The affinity-server binary as an operator runs it: flags, start/load/
// shutdown log lines, serving over gRPC, /metrics, and a clean exit 0 on
// SIGTERM, which only the main thread takes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
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
using testing::TmpDir;
using testing::WaitExit;
using testing::WaitForLog;

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
  }
  close(fd);
  return response;
}

TEST(ServerBinaryTest, MissingDbIsAUsageError) {
  const std::string log = TmpDir() + "/nodb.log";
  EXPECT_EQ(WaitExit(Spawn({kServerBinary}, log)), 2);
  EXPECT_NE(ReadFile(log).find("--db is required"), std::string::npos);
}

TEST(ServerBinaryTest, HelpListsTheServerFlags) {
  const std::string log = TmpDir() + "/help.log";
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    execl(kServerBinary, kServerBinary, "--help", static_cast<char*>(nullptr));
    _exit(127);
  }
  EXPECT_EQ(WaitExit(pid), 0);  // usage on stdout, exit 0
  const std::string text = ReadFile(log);
  for (const char* flag : {"--db", "--listen", "--metrics_listen", "--max_k", "--scorer",
                           "--hnsw_ef", "--batch_window_us", "--poll_ms", "--threads",
                           "--rules", "--admin_listen", "--catalog_poll_ms"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag << " missing from:\n" << text;
  }
}

TEST(ServerBinaryTest, ServesTheLiveModelAndExitsCleanlyOnSigterm) {
  const std::string db = TmpDir() + "/db";
  testing::TestModel model = testing::MakeImplicitModel(3, 20, 100, 8, 10);
  {
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), model).ok());
  }
  const std::string log = TmpDir() + "/server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0",
                           "--metrics_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                           "--poll_ms=100"},
                          log);
  // Logged once the loaded version serves.
  std::string text = WaitForLog(log, "routing (rollout revision");
  ASSERT_NE(text.find("model loaded: version 1"), std::string::npos) << text;
  EXPECT_NE(text.find("users 20, items 100, dims 8"), std::string::npos) << text;
  const std::optional<int> grpc_port = LoggedPort(text, "started: grpc");
  ASSERT_TRUE(grpc_port.has_value()) << text;
  const std::optional<int> metrics_port = LoggedPort(text, "\\(port \\d+\\), metrics");
  ASSERT_TRUE(metrics_port.has_value()) << text;

  auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(*grpc_port), grpc::InsecureChannelCredentials()));
  affinity::v1::RecommendRequest request;
  request.set_user_id(testing::TestModel::UserId(1));
  request.set_k(5);
  affinity::v1::RecommendResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(stub->Recommend(&context, request, &response).ok());
  EXPECT_EQ(response.items_size(), 5);
  EXPECT_EQ(response.model_version(), 1u);

  const std::string metrics = HttpGet(*metrics_port, "/metrics");
  EXPECT_NE(metrics.find("affinity_requests_total{method=\"Recommend\",code=\"OK\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("affinity_model_loaded{arm=\"control\",version=\"1\"} 1"),
            std::string::npos);
  EXPECT_EQ(HttpGet(*metrics_port, "/healthz").rfind("HTTP/1.1 200", 0), 0u);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0);
  text = ReadFile(log);
  EXPECT_NE(text.find("started:"), std::string::npos);
  EXPECT_NE(text.find("shutting down on signal 15"), std::string::npos);
  EXPECT_NE(text.find("shut down\n"), std::string::npos) << text;
}

// SigBlk of /proc/PID/task/TID/status: the thread's blocked signals.
std::optional<uint64_t> BlockedSignals(const std::string& status) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("SigBlk:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return std::nullopt;
}

// A stop signal is taken by the main thread's sigwait; if any other thread
// left it unblocked, the kernel could deliver it there and its default
// action would end the process without the drain (gRPC's executor and
// timer threads, started with the first credentials, once did).
TEST(ServerBinaryTest, EveryOtherThreadBlocksTheStopSignals) {
  const std::string dir = testing::TestCaseDir();
  const std::string log = dir + "/server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + dir + "/db", "--create_store",
                           "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
                           "--admin_listen=127.0.0.1:0", "--poll_ms=100"},
                          log);
  const std::string text = WaitForLog(log, "no model can serve yet");
  ASSERT_NE(text.find("no model can serve yet"), std::string::npos) << text;
  const uint64_t stop = (uint64_t{1} << (SIGHUP - 1)) | (uint64_t{1} << (SIGINT - 1)) |
                        (uint64_t{1} << (SIGTERM - 1));
  int others = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    if (task.path().filename() == std::to_string(pid)) continue;  // the main thread waits
    const std::string status = ReadFile(task.path().string() + "/status");
    const std::optional<uint64_t> blocked = BlockedSignals(status);
    if (!blocked.has_value()) continue;  // it ended meanwhile
    ++others;
    EXPECT_EQ(*blocked & stop, stop) << status.substr(0, status.find('\n'));  // Name: ...
  }
  EXPECT_GT(others, 3);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(log);
}

}  // namespace
}  // namespace affinity::server
