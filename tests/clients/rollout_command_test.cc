// `affinity rollout` run in-process: against a store (--db) and against the
// RolloutAdmin service of an in-process gRPC server (--admin), exit codes,
// error messages naming the target, and `status` over recorded outcomes.
#include "tools/cli/rollout_command.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "affinity/v1/outcomes.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/rpc/rollout_admin_service.h"
#include "storage/event_store.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::cli {
namespace {

using ::affinity::storage::ModelStore;
using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::SmallModel;
using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result Rollout(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Result run;
  run.code = RunRolloutCommand(args, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

// Versions 1..3 eligible, 4 refused by the gate.
std::string MakeStore() {
  const std::string dir = MakeTestDir();
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    EXPECT_EQ(PublishModel(**store, SmallModel::Make(2, 2, 2, seed)), seed);
  }
  SmallModel gated = SmallModel::Make(2, 2, 2, 4);
  gated.ineligible = true;
  EXPECT_EQ(PublishModel(**store, gated), 4u);
  return dir;
}

class RolloutCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("USER", "tester", 1); }
};

TEST_F(RolloutCommandTest, WritesToSeveralStoresAndShowsThemAgreeing) {
  const std::string a = MakeStore();
  const std::string b = MakeStore();
  const std::string both = "--db=" + a + "," + b;
  Result set = Rollout({"set", both, "--arm=treatment", "--version=2", "--fraction=10%"});
  ASSERT_EQ(set.code, kRolloutOk) << set.err;
  EXPECT_THAT(set.out, HasSubstr("arm treatment added: version 2 on 10%\n"));
  EXPECT_THAT(set.out, HasSubstr(a + ": revision 0 -> 1\n"));
  EXPECT_THAT(set.out, HasSubstr(b + ": revision 0 -> 1\n"));
  EXPECT_THAT(set.out, HasSubstr("arms now: control=3@90% treatment=2@10%\n"));

  Result again = Rollout({"set", both, "--arm=treatment", "--fraction=10%"});
  ASSERT_EQ(again.code, kRolloutOk) << again.err;
  EXPECT_THAT(again.out, HasSubstr(a + ": unchanged (revision 1)"));

  Result show = Rollout({"show", both});
  EXPECT_EQ(show.code, kRolloutOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("treatment        2    10%  9000-9999\n"));
  EXPECT_THAT(show.out, HasSubstr("all 2 targets agree\n"));

  Result history = Rollout({"history", "--db=" + b});
  ASSERT_EQ(history.code, kRolloutOk) << history.err;
  EXPECT_THAT(history.out, HasSubstr("set  by tester@"));
  EXPECT_THAT(history.out, HasSubstr(" via affinity rollout\n"));
  EXPECT_THAT(history.out, HasSubstr("control=newest -> control=newest treatment=2@10%"));
}

TEST_F(RolloutCommandTest, ShowReportsDisagreementWithItsOwnExitCode) {
  const std::string a = MakeStore();
  const std::string b = MakeStore();
  ASSERT_EQ(Rollout({"shadow", "--db=" + b, "--version=1", "--fraction=1%"}).code, kRolloutOk);
  Result show = Rollout({"show", "--db=" + a + "," + b});
  EXPECT_EQ(show.code, kRolloutDisagree);
  EXPECT_THAT(show.out, HasSubstr("DISAGREE: shadow: " + a + " has off; " + b + " has 1@1%\n"));
  EXPECT_THAT(show.out, Not(HasSubstr("DISAGREE: arms")));
}

TEST_F(RolloutCommandTest, RefusalsExitWithTheDocumentedCodes) {
  const std::string a = MakeStore();
  Result gated = Rollout({"set", "--db=" + a, "--arm=treatment", "--version=4", "--fraction=5%"});
  EXPECT_EQ(gated.code, kRolloutBadInput);
  EXPECT_THAT(gated.err, HasSubstr("error: " + a +
                                   ": arm treatment: version 4 may not take "
                                   "traffic: the nightly gate refused it"));
  EXPECT_EQ(gated.out, "");

  Result unknown = Rollout({"set", "--db=" + a, "--arm=treatment", "--version=8", "--fraction=5%"});
  EXPECT_EQ(unknown.code, kRolloutBadInput);
  EXPECT_THAT(unknown.err, HasSubstr("version 8 is not a published version"));

  Result usage = Rollout({"set", "--db=" + a, "--arm=treatment", "--fraction=half"});
  EXPECT_EQ(usage.code, kRolloutBadInput);
  EXPECT_THAT(usage.err, HasSubstr("error: --fraction: \"half\" is not a fraction"));

  Result nothing = Rollout({"rollback", "--db=" + a});
  EXPECT_EQ(nothing.code, kRolloutFailed);
  EXPECT_THAT(nothing.err, HasSubstr("nothing to roll back"));

  const std::string missing = MakeTestDir() + "/no-store";
  Result no_store = Rollout({"show", "--db=" + missing});
  EXPECT_EQ(no_store.code, kRolloutFailed);
  EXPECT_THAT(no_store.err, HasSubstr("no model store"));
  EXPECT_FALSE(std::filesystem::exists(missing));

  // Another writer holds the store: a write waits, then says busy.
  auto holder = ModelStore::Open(a, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(holder.ok());
  Result busy = Rollout({"promote", "--db=" + a});
  EXPECT_EQ(busy.code, kRolloutFailed);
  EXPECT_THAT(busy.err, HasSubstr("busy, retry"));
  // Reads do not need the lock.
  EXPECT_EQ(Rollout({"show", "--db=" + a}).code, kRolloutOk);
}

TEST_F(RolloutCommandTest, TalksToTheRolloutAdminService) {
  const std::string dir = MakeStore();
  auto follower = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  ASSERT_TRUE(follower.ok()) << follower.status();
  server::RolloutAdminService service(dir, [&] { return follower->get(); });
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string admin = "--admin=127.0.0.1:" + std::to_string(port);

  Result set = Rollout({"set", admin, "--arm=treatment", "--version=1", "--fraction=2000bp",
                        "--reason=compare with v1", "--timeout_ms=20000"});
  ASSERT_EQ(set.code, kRolloutOk) << set.err;
  EXPECT_THAT(set.out, HasSubstr("127.0.0.1:" + std::to_string(port) + ": revision 0 -> 1"));
  Result promote = Rollout({"promote", admin, "--arm=treatment", "--timeout_ms=20000"});
  ASSERT_EQ(promote.code, kRolloutOk) << promote.err;
  EXPECT_THAT(promote.out, HasSubstr("arms now: control=1@100%"));

  Result show = Rollout({"show", admin, "--timeout_ms=20000"});
  ASSERT_EQ(show.code, kRolloutOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("(store " + dir + ")"));
  EXPECT_THAT(show.out, HasSubstr("control: pinned to version 1; rollback returns to version 3"));

  Result history = Rollout({"history", admin, "--limit=1", "--timeout_ms=20000"});
  ASSERT_EQ(history.code, kRolloutOk) << history.err;
  EXPECT_THAT(history.out, HasSubstr("revision 2 "));
  EXPECT_THAT(history.out, Not(HasSubstr("revision 1 ")));

  Result gated = Rollout(
      {"set", admin, "--arm=treatment", "--version=4", "--fraction=1%", "--timeout_ms=20000"});
  EXPECT_EQ(gated.code, kRolloutBadInput);
  EXPECT_THAT(gated.err, HasSubstr("the nightly gate refused it"));

  // The store itself saw the writes.
  auto reader = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->LiveVersion().value_or(0), 1u);
  server->Shutdown();

  Result unreachable = Rollout({"show", admin, "--timeout_ms=300"});
  EXPECT_EQ(unreachable.code, kRolloutFailed);
  EXPECT_THAT(unreachable.err, HasSubstr("error: 127.0.0.1:" + std::to_string(port) + ": "));
}

affinity::v1::Outcome Event(const std::string& arm, uint64_t version, affinity::v1::EventType type,
                            int n, bool forced = false) {
  affinity::v1::Outcome e;
  e.set_request_id("r" + std::to_string(n));
  e.set_user_id("u" + std::to_string(n));
  e.set_arm(arm);
  e.set_model_version(version);
  e.set_item_id("i" + std::to_string(n));
  e.set_event(type);
  e.set_at_unix_micros(1793491200000000 + n);
  e.set_forced_arm(forced);
  return e;
}

TEST_F(RolloutCommandTest, StatusComparesTheServedArmsOutcomes) {
  const std::string dir = MakeStore();
  ASSERT_EQ(
      Rollout({"set", "--db=" + dir, "--arm=treatment", "--version=2", "--fraction=50%"}).code,
      kRolloutOk);
  Result before = Rollout({"status", "--db=" + dir});
  ASSERT_EQ(before.code, kRolloutOk) << before.err;
  EXPECT_THAT(before.out, HasSubstr("no outcome events recorded"));

  {
    auto events = storage::EventStore::Open(dir, "web-1");
    ASSERT_TRUE(events.ok()) << events.status();
    std::vector<affinity::v1::Outcome> batch;
    int n = 0;
    for (int i = 0; i < 40; ++i)
      batch.push_back(Event("control", 3, affinity::v1::IMPRESSION, n++));
    for (int i = 0; i < 4; ++i) batch.push_back(Event("control", 3, affinity::v1::CLICK, n++));
    for (int i = 0; i < 20; ++i)
      batch.push_back(Event("treatment", 2, affinity::v1::IMPRESSION, n++));
    for (int i = 0; i < 5; ++i) batch.push_back(Event("treatment", 2, affinity::v1::CLICK, n++));
    for (int i = 0; i < 3; ++i) {
      batch.push_back(Event("treatment", 2, affinity::v1::IMPRESSION, n++, /*forced=*/true));
    }
    for (int i = 0; i < 7; ++i) batch.push_back(Event("old", 1, affinity::v1::IMPRESSION, n++));
    ASSERT_TRUE((*events)->Append(batch).ok());
    ASSERT_TRUE((*events)->AddRequests("control", 3, false, 30).ok());
    ASSERT_TRUE((*events)->AddRequests("treatment", 2, false, 15).ok());
  }
  Result status = Rollout({"status", "--db=" + dir});
  ASSERT_EQ(status.code, kRolloutOk) << status.err;
  EXPECT_THAT(status.out, HasSubstr("arms: control=3@50% treatment=2@50%\n"));
  EXPECT_THAT(status.out, HasSubstr("control          3        30           40       4  10.000%"));
  EXPECT_THAT(status.out, HasSubstr("treatment        2        15           20       5  25.000%"));
  EXPECT_THAT(status.out, HasSubstr("+15.000 pp"));
  EXPECT_THAT(status.out, HasSubstr("forced arm treatment version 2 (not compared): 0 requests, 3 "
                                    "impressions, 0 clicks"));
  EXPECT_THAT(status.out, HasSubstr("not counted (arms or versions not served now): 0 requests, "
                                    "7 impressions"));
}

}  // namespace
}  // namespace affinity::cli
