// Outcomes survive restarts of the real affinity-server: outcomes of real
// answers reported to a server stopped with SIGTERM, and to the restarted
// server killed with SIGKILL right after its call returned, are all shown
// by `affinity rollout status --db=DIR` once the server runs again on the
// same --db and --instance; a batch reported again after a restart is
// recognised as duplicates. Request counts are flushed on SIGTERM (those
// of the last second before a SIGKILL may be lost, outcomes never).
#include <signal.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/rollout_testing.h"
#include "tests/server/rollout/server_child.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using affinity::v1::ReportOutcomeRequest;
using affinity::v1::ReportOutcomeResponse;
using storage::ModelStore;
using testing::ArmKey;
using testing::ArmTally;
using testing::RunCli;
using testing::ServerChild;
using testing::TestModel;

constexpr int kModelUsers = 60;
constexpr int64_t kNov1 = int64_t{1793491200} * 1000000;

std::vector<RecommendResponse> Answers(ServerChild& server, int first_user, int users,
                                       std::map<ArmKey, ArmTally>* tally) {
  std::vector<RecommendResponse> out;
  for (int u = first_user; u < first_user + users; ++u) {
    RecommendRequest request;
    request.set_user_id(TestModel::UserId(u % kModelUsers));
    request.set_k(3);
    RecommendResponse response;
    const grpc::Status status = server.Recommend(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    ++(*tally)[{response.arm(), response.model_version(), false}].requests;
    out.push_back(response);
  }
  return out;
}

// The (requests, impressions, clicks) of `arm` at `version` in the table
// `affinity rollout status` prints.
std::optional<ArmTally> StatusRow(const std::string& status, const std::string& arm,
                                  uint64_t version) {
  std::smatch m;
  const std::regex row("(^|\\n)" + arm + " +" + std::to_string(version) +
                       " +(\\d+) +(\\d+) +(\\d+) ");
  if (!std::regex_search(status, m, row)) return std::nullopt;
  return ArmTally{std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4])};
}

TEST(OutcomesBinaryTest, OutcomesSurviveSigtermAndSigkillRestarts) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto rw = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.status();
    for (uint32_t seed = 1; seed <= 2; ++seed) {
      ASSERT_TRUE(server::testing::Publish(
                      rw->get(), server::testing::MakeImplicitModel(seed, kModelUsers, 80, 8, 10))
                      .ok());
    }
    ASSERT_TRUE(testing::EditRollout(**rw, "pin", [](affinity::v1::RolloutState& s) {
                  s.set_control_version(1);
                }).ok());
    ASSERT_TRUE(testing::SetArms(**rw, "exp-durable", {testing::Arm("treatment", 2, 5000)}).ok());
  }
  const std::vector<std::string> flags = {"--autopilot_seconds=0"};

  // 1: report, then SIGTERM.
  std::map<ArmKey, ArmTally> first;
  auto server = ServerChild::Start(dir, "durable", flags);
  ASSERT_TRUE(server.ok()) << server.status();
  const ReportOutcomeRequest batch_a =
      testing::OutcomesFor(Answers(**server, 0, 30, &first), kNov1, &first);
  ReportOutcomeResponse response;
  grpc::Status status = (*server)->ReportOutcome(batch_a, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), batch_a.outcomes_size());
  ASSERT_EQ((*server)->Stop(SIGTERM), 0);

  // Everything of the first run, requests included, is in the status.
  testing::CliResult cli = RunCli({"rollout", "status", "--db=" + dir});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  ASSERT_EQ(first.size(), 2u) << "both arms should have served";
  for (const auto& [key, want] : first) {
    const auto& [arm, version, forced] = key;
    const std::optional<ArmTally> row = StatusRow(cli.output, arm, version);
    ASSERT_TRUE(row.has_value()) << arm << " missing from:\n" << cli.output;
    EXPECT_EQ(row->requests, want.requests) << arm;
    EXPECT_EQ(row->impressions, want.impressions) << arm;
    EXPECT_EQ(row->clicks, want.clicks) << arm;
  }

  // 2: restarted on the same --db and --instance: the first batch again is
  // all duplicates; a new batch, then SIGKILL once the call returned.
  server = ServerChild::Start(dir, "durable", flags);
  ASSERT_TRUE(server.ok()) << server.status();
  status = (*server)->ReportOutcome(batch_a, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 0);
  EXPECT_EQ(response.duplicates(), batch_a.outcomes_size());
  std::map<ArmKey, ArmTally> second;
  const ReportOutcomeRequest batch_b =
      testing::OutcomesFor(Answers(**server, 30, 20, &second), kNov1 + 60000000, &second);
  status = (*server)->ReportOutcome(batch_b, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), batch_b.outcomes_size());
  ASSERT_EQ((*server)->Stop(SIGKILL), 128 + SIGKILL);

  // 3: it starts again after the kill, and the status (read while it runs)
  // has every outcome of both runs.
  server = ServerChild::Start(dir, "durable", flags);
  ASSERT_TRUE(server.ok()) << server.status();
  cli = RunCli({"rollout", "status", "--db=" + dir});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  std::printf("affinity rollout status after the SIGKILL and restart:\n%s", cli.output.c_str());
  for (const auto& [key, want] : first) {
    const auto& [arm, version, forced] = key;
    const ArmTally later = second[key];
    const std::optional<ArmTally> row = StatusRow(cli.output, arm, version);
    ASSERT_TRUE(row.has_value()) << arm << " missing from:\n" << cli.output;
    EXPECT_EQ(row->impressions, want.impressions + later.impressions) << arm;
    EXPECT_EQ(row->clicks, want.clicks + later.clicks) << arm;
    EXPECT_GE(row->requests, want.requests) << arm;
    EXPECT_LE(row->requests, want.requests + later.requests) << arm;
  }
  EXPECT_EQ((*server)->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace affinity::server
