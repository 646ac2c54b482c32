// The real server binary with --scorer=hnsw and --scorer=ivf: on a version
// without a stored index (graph, lists) it builds one, says so, and stores
// it with the version; a server started afterwards on the same store loads
// that index instead of building it (its log says so) and gives the same
// answers.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

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
using testing::Spawn;
using testing::TestCaseDir;
using testing::WaitExit;
using testing::WaitForLog;

// The recommended item ids of users 1..5, from a server on `port`.
std::vector<std::string> Answers(int port) {
  auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  std::vector<std::string> ids;
  for (int user = 1; user <= 5; ++user) {
    affinity::v1::RecommendRequest request;
    request.set_user_id(testing::TestModel::UserId(user));
    request.set_k(5);
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = stub->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.items_size(), 5);
    for (const auto& item : response.items()) ids.push_back(item.item_id());
  }
  return ids;
}

struct ServerRun {
  std::string log;
  std::vector<std::string> answers;
};

// Starts a server with `scorer` on `db`, waits until it serves (and, for a
// build, until it stored the index), asks it, stops it.
ServerRun Serve(const std::string& db, const std::string& scorer, const std::string& name,
                const std::string& wait_for) {
  ServerRun run;
  const std::string log = TestCaseDir() + "/" + name + ".log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0",
                           "--metrics_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                           "--poll_ms=100", "--scorer=" + scorer},
                          log);
  WaitForLog(log, wait_for);
  run.log = WaitForLog(log, "routing (rollout revision");
  const std::optional<int> port = LoggedPort(run.log, "started: grpc");
  EXPECT_TRUE(port.has_value()) << run.log;
  if (port.has_value()) run.answers = Answers(*port);
  EXPECT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0);
  return run;
}

// The scorer and the name of its stored index (kind/params).
struct Case {
  std::string scorer;
  std::string index;
};

class StoredIndexBinaryTest : public ::testing::TestWithParam<Case> {};

TEST_P(StoredIndexBinaryTest, BuiltAndStoredByTheFirstServerLoadedByTheNext) {
  const std::string scorer = GetParam().scorer;
  const std::string db = TestCaseDir() + "/db";
  {
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 400, 8, 10)).ok());
  }
  const ServerRun first = Serve(db, scorer, "first", "stored index " + scorer + "/");
  EXPECT_NE(first.log.find("scorer " + scorer + " (index built in"), std::string::npos)
      << first.log;
  EXPECT_NE(first.log.find("stored index: none stored"), std::string::npos) << first.log;
  EXPECT_NE(first.log.find("stored index " + GetParam().index + " of version 1"),
            std::string::npos)
      << first.log;

  const ServerRun second = Serve(db, scorer, "second", "routing (rollout revision");
  EXPECT_NE(second.log.find("model loaded: version 1"), std::string::npos) << second.log;
  EXPECT_NE(second.log.find("scorer " + scorer + " (index loaded from the store in"),
            std::string::npos)
      << second.log;
  EXPECT_EQ(second.log.find("index built"), std::string::npos) << second.log;
  EXPECT_EQ(second.log.find("stored index " + scorer + "/"), std::string::npos) << second.log;
  ASSERT_EQ(first.answers.size(), 25u);
  EXPECT_EQ(second.answers, first.answers);
}

INSTANTIATE_TEST_SUITE_P(
    Scorers, StoredIndexBinaryTest,
    ::testing::Values(Case{"hnsw", "hnsw/M=16,ef_construction=200"},
                      Case{"ivf", "ivf/lists=20,iterations=10,sample=64,seed=1"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.scorer; });

}  // namespace
}  // namespace affinity::server
