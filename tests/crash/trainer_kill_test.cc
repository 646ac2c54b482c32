// Crash safety of the trainer end to end: `affinity-train` on a generated
// interactions file is SIGKILLed at seeded random moments during ingest,
// training, the factor write and the publish; after every kill the store
// opens read-write, every version published before reads back with the
// same checksum, a version the killed run published is complete (its
// content equals an uninterrupted run's) or absent, and a real
// affinity-server started on the store answers a Recommend.
//
// The kill delays are aimed at each phase in turn, from the times an
// uninterrupted run of the same job reached each phase; the phase a kill
// actually hit is read from the run's progress lines (and, for the publish,
// the table file of the manual flush that starts it; its time in the
// uninterrupted run from the model store's RocksDB LOG). The helpers are in
// trainer_kill_support.h.
// Every kill prints a line ("kill 7/24 seed 7 at 0.83 s during publish:
// ok"), the test a summary line.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/crash/trainer_kill_support.h"
#include "tests/server/server_process.h"

namespace affinity {
namespace {

using server::testing::ReadFile;
using server::testing::TmpDir;
using server::testing::WaitExit;
using server::testing::WaitExitFor;
using testing::Clock;
using testing::SpawnTrainer;
using testing::TrainArgs;

constexpr int kKills = 24;
// A server is started on the store after every kServerEvery-th kill and
// after each of the last four (one aimed at each phase).
constexpr int kServerEvery = 3;

// The phases of a plain run, in order. kEvaluation and kDone are reported
// but not aimed at.
enum Phase { kIngest, kTraining, kEvaluation, kFactorWrite, kPublish, kDone, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"ingest",       "training", "evaluation",
                                              "factor write", "publish",  "after publish"};

// The phase a killed run was in, from its progress lines and the tables it
// left (the publish starts with the flush of the version's rows).
Phase PhaseReached(const testing::KilledRun& run, const std::string& db) {
  if (run.code == 0 || run.out.find("published model version") != std::string::npos) {
    return kDone;
  }
  if (run.out.find("users evaluated") != std::string::npos) {
    return testing::FlushTableStarted(db, run.tables_before) ? kPublish : kFactorWrite;
  }
  if (run.out.find("training done") != std::string::npos) return kEvaluation;
  if (run.out.find("read ") != std::string::npos) return kTraining;
  return kIngest;
}

TEST(TrainerKillTest, EveryKillLeavesPublishedVersionsIntactAndAServableStore) {
  const std::string dir = TmpDir() + "/trainer_kill";
  const std::string input = dir + "/interactions.csv";
  std::filesystem::create_directories(dir);
  testing::WriteInteractions(input);

  // Version 1 from another seed; version 2 is the job every kill interrupts,
  // run to the end once to time its phases and to know its content.
  {
    const pid_t pid = SpawnTrainer(TrainArgs(input, dir, 11), dir + "/v1.out", dir + "/v1.err");
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(dir + "/v1.err");
  }
  const std::vector<std::string> args = TrainArgs(input, dir, 1);
  const testing::RunTimes timed = testing::TimeUninterruptedRun(
      args, dir, dir, {"read ", "training done", "users evaluated", "published model version"});
  ASSERT_TRUE(timed.first_flush.has_value()) << "no publish flush in " << dir << "/models/LOG";
  double start[kPhases] = {0,
                           timed.marks[0],
                           timed.marks[1],
                           timed.marks[2],
                           *timed.first_flush,
                           timed.marks[3]};
  testing::KnownVersions known;
  std::string content;
  affinity::v1::ModelMetadata expected;
  const absl::Status read = testing::ReadPublished(dir, &known, &content, &expected);
  ASSERT_TRUE(read.ok()) << read;
  ASSERT_EQ(known.size(), 2u);
  std::printf(
      "uninterrupted run: training from %.2f s, evaluation %.2f s, factor write %.2f s, "
      "publish %.2f s, published %.2f s, exit %.2f s\n",
      start[kTraining], start[kEvaluation], start[kFactorWrite], start[kPublish], start[kDone],
      timed.exit);

  // Kill i (seed i) aims at phase (i - 1) % 4 of these, at a seeded point
  // between 10% and 90% of its length in the uninterrupted run, counted
  // from the moment the run shows it reached the phase: its progress line
  // before the phase (none for the ingest), or for the publish the table
  // file its flush writes. So a run slowed by a busy machine is still hit
  // where aimed.
  const Phase aimed_phases[] = {kIngest, kTraining, kFactorWrite, kPublish};
  // Where the phase starts (null: at the run's start) and its length.
  auto aim_at = [&](Phase p) -> std::pair<testing::KillAim, double> {
    switch (p) {
      case kIngest: return {{nullptr}, start[kTraining]};
      case kTraining:
        return {{testing::AfterLine("read ")}, start[kEvaluation] - start[kTraining]};
      case kFactorWrite:
        return {{testing::AfterLine("users evaluated")}, start[kPublish] - start[kFactorWrite]};
      default:
        return {{[&](const std::string&, const std::set<std::string>& before) {
                  return testing::FlushTableStarted(dir, before);
                }},
                start[kDone] - start[kPublish]};
    }
  };

  int hits[kPhases] = {};
  int failed_kills = 0, server_checks = 0;
  for (int i = 1; i <= kKills; ++i) {
    const int seed = i;
    std::mt19937 rng(seed);
    const Phase aim = aimed_phases[(i - 1) % 4];
    auto [kill_aim, length] = aim_at(aim);
    kill_aim.delay = std::uniform_real_distribution<double>(0.1, 0.9)(rng) * length;
    const std::string err = absl::StrCat(dir, "/kill", i, ".err");
    const testing::KilledRun run =
        testing::RunAndKill(args, dir, absl::StrCat(dir, "/kill", i, ".out"), err, kill_aim);
    const Phase phase = PhaseReached(run, dir);
    ++hits[phase];

    std::vector<std::string> failures;
    if (run.code != 0 && run.code != 128 + SIGKILL) {
      failures.push_back(absl::StrCat("trainer exited with ", run.code, ": ", ReadFile(err)));
    }
    uint64_t live = 0;
    for (std::string& f : testing::CheckStore(dir, content, expected, &known, &live)) {
      failures.push_back(std::move(f));
    }
    const bool check_server = i % kServerEvery == 0 || i > kKills - 4;
    if (failures.empty() && check_server) {
      ++server_checks;
      const testing::ServerAnswer answer =
          testing::AskServer(dir, absl::StrCat(dir, "/server", i, ".log"));
      if (!answer.failure.empty()) {
        failures.push_back(answer.failure);
      } else if (answer.version != live) {
        failures.push_back(absl::StrCat("server answered from version ", answer.version,
                                        ", expected ", live));
      }
    }
    std::printf("kill %d/%d seed %d at %.2f s during %s (aimed at %s)%s: %s\n", i, kKills,
                seed, run.at, kPhaseNames[phase], kPhaseNames[aim],
                check_server ? ", server answers" : "",
                failures.empty() ? "ok" : absl::StrJoin(failures, "; ").c_str());
    std::fflush(stdout);
    EXPECT_TRUE(failures.empty()) << "kill " << i << ": " << absl::StrJoin(failures, "; ");
    failed_kills += !failures.empty();
  }
  std::vector<std::string> by_phase;
  for (int p = 0; p < kPhases; ++p) {
    by_phase.push_back(absl::StrCat(kPhaseNames[p], " ", hits[p]));
  }
  std::printf("trainer kills: %d (%s), %zu versions published in all, %d server checks, "
              "%d failed\n",
              kKills, absl::StrJoin(by_phase, ", ").c_str(), known.size(), server_checks,
              failed_kills);
}

// A plain run's progress lines reach a redirected stdout as each step ends,
// not at exit: with the store locked by this test, the run waits to publish
// after its evaluation, and its evaluation table must already be readable.
TEST(TrainerKillTest, ProgressLinesAreFlushedAsEachStepEnds) {
  const std::string dir = TmpDir() + "/progress";
  std::filesystem::create_directories(dir);
  const std::string input = dir + "/interactions.csv";
  {
    std::ofstream out(input);
    for (int row = 0; row < 5000; ++row) out << 'u' << row % 700 << ",i" << row % 97 << ",1\n";
  }
  auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::vector<std::string> args = TrainArgs(input, dir, 1);
  const pid_t pid = SpawnTrainer(args, "", dir + "/err", fds[1]);
  close(fds[1]);
  std::string text;
  bool exited = false;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
  while (text.find("users evaluated") == std::string::npos && Clock::now() < deadline) {
    pollfd p = {fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) {
      exited = true;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  // The run is still waiting for the store: nothing it printed was held back.
  EXPECT_FALSE(exited) << text;
  EXPECT_EQ(WaitExitFor(pid, 0), std::nullopt);
  EXPECT_NE(text.find("training done"), std::string::npos) << text;
  EXPECT_NE(text.find("users evaluated"), std::string::npos) << text;
  EXPECT_EQ(text.find("published model version"), std::string::npos) << text;

  store->reset();  // lets the run publish
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) text.append(buf, n);
  close(fds[0]);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(dir + "/err");
  EXPECT_NE(text.find("published model version 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace affinity
