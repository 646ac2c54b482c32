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
// the model store's RocksDB LOG: the publish starts with a manual flush).
// Every kill prints a line ("kill 7/24 seed 7 at 0.83 s during publish:
// ok"), the test a summary line.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/crash/version_checksum.h"
#include "tests/server/server_process.h"

namespace affinity {
namespace {

using server::testing::kServerBinary;
using server::testing::LoggedPort;
using server::testing::ReadFile;
using server::testing::TmpDir;
using server::testing::WaitExit;
using server::testing::WaitExitFor;
using server::testing::WaitForLog;
using Clock = std::chrono::steady_clock;

constexpr char kTrainerBinary[] = "trainer/affinity-train";
constexpr int kKills = 24;
// A server is started on the store after every kServerEvery-th kill and
// after each of the last four (one aimed at each phase).
constexpr int kServerEvery = 3;

// Users u0..u59999, items i0..i2999 (popular ones more often), weights 1..5:
// a run of about 1.5 s in which ingest, training, the factor write and the
// publish each take a tenth of a second or more.
void WriteInteractions(const std::string& path) {
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> user(0, 59999), weight(1, 5);
  std::uniform_real_distribution<double> unit(0, 1);
  std::ofstream out(path);
  for (int row = 0; row < 300000; ++row) {
    const double u = unit(rng);
    out << 'u' << user(rng) << ",i" << static_cast<int>(3000 * u * u) << ',' << weight(rng)
        << '\n';
  }
}

std::vector<std::string> TrainArgs(const std::string& input, const std::string& db,
                                   int seed) {
  return {kTrainerBinary,        "--input=" + input,      "--db=" + db,
          "--factors=32",        "--iterations=5",        "--threads=1",
          "--puresvd=false",     "--eval_users=2000",     "--progress_eval_users=200",
          absl::StrCat("--seed=", seed)};
}

// Forks and execs args[0]; stdout to `out_fd` (or the file `out`), stderr to
// `err`.
pid_t SpawnTrainer(const std::vector<std::string>& args, const std::string& out,
                   const std::string& err, int out_fd = -1) {
  std::fflush(nullptr);  // the child's freopen would write this buffer again
  const pid_t pid = fork();
  if (pid == 0) {
    if (out_fd >= 0) {
      dup2(out_fd, STDOUT_FILENO);
    } else if (std::freopen(out.c_str(), "w", stdout) == nullptr) {
      _exit(126);
    }
    if (std::freopen(err.c_str(), "w", stderr) == nullptr) _exit(126);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The phases of a plain run, in order. kEvaluation and kDone are reported
// but not aimed at.
enum Phase { kIngest, kTraining, kEvaluation, kFactorWrite, kPublish, kDone, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"ingest",       "training", "evaluation",
                                              "factor write", "publish",  "after publish"};

// Wall-clock microseconds of the manual flush that starts a publish, from
// the store's current RocksDB LOG (written by the last process that opened
// it and closed it: RocksDB writes its LOG lazily, so a killed run's may
// lack its last lines); nullopt when the LOG records none.
std::optional<int64_t> PublishFlushMicros(const std::string& db) {
  static const std::regex kFlush(
      R"re("time_micros": (\d+), "job": \d+, "event": "flush_started"[^\n]*"Manual Flush")re");
  const std::string log = ReadFile(db + "/models/LOG");
  std::smatch m;
  if (!std::regex_search(log, m, kFlush)) return std::nullopt;
  return std::stoll(m[1]);
}

// The store's table files.
std::set<std::string> TableFiles(const std::string& db) {
  std::set<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(db + "/models", ec)) {
    if (entry.path().extension() == ".sst") files.insert(entry.path().filename());
  }
  return files;
}

// Whether a table file of at least 64 KiB appeared since `before`: the
// publish's flush of the version's rows (a table written when the store is
// opened, from its write-ahead log, holds a few range deletions at most).
bool PublishFlushStarted(const std::string& db, const std::set<std::string>& before) {
  std::error_code ec;
  for (const std::string& file : TableFiles(db)) {
    if (before.count(file)) continue;
    if (std::filesystem::file_size(db + "/models/" + file, ec) >= (64u << 10)) return true;
  }
  return false;
}

// The phase a killed run was in, from its progress lines and the tables it
// left.
Phase PhaseReached(const std::string& out, const std::string& db,
                   const std::set<std::string>& tables_before) {
  if (out.find("published model version") != std::string::npos) return kDone;
  if (out.find("users evaluated") != std::string::npos) {
    return PublishFlushStarted(db, tables_before) ? kPublish : kFactorWrite;
  }
  if (out.find("training done") != std::string::npos) return kEvaluation;
  if (out.find("read ") != std::string::npos) return kTraining;
  return kIngest;
}

// Seconds after the start at which an uninterrupted run reached each phase.
struct PhaseTimes {
  double start[kPhases] = {};
  double exit = 0;
};

// Runs the job to the end, polling its progress lines; the publish's start
// comes from the LOG's flush time.
PhaseTimes TimeUninterruptedRun(const std::vector<std::string>& args, const std::string& db,
                                const std::string& dir) {
  PhaseTimes t;
  const std::string out = dir + "/timed.out";
  const int64_t wall_start = WallMicros();
  const Clock::time_point start = Clock::now();
  const pid_t pid = SpawnTrainer(args, out, dir + "/timed.err");
  const std::pair<const char*, Phase> marks[] = {{"read ", kTraining},
                                                 {"training done", kEvaluation},
                                                 {"users evaluated", kFactorWrite},
                                                 {"published model version", kDone}};
  std::optional<int> code;
  while (!(code = WaitExitFor(pid, 0)).has_value()) {
    const std::string text = ReadFile(out);
    for (const auto& [mark, phase] : marks) {
      if (t.start[phase] == 0 && text.find(mark) != std::string::npos) {
        t.start[phase] = Seconds(Clock::now() - start);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  t.exit = Seconds(Clock::now() - start);
  EXPECT_EQ(*code, 0) << ReadFile(dir + "/timed.err");
  for (const auto& [mark, phase] : marks) {
    if (t.start[phase] == 0) t.start[phase] = t.exit;
  }
  const std::optional<int64_t> flush = PublishFlushMicros(db);
  EXPECT_TRUE(flush.has_value()) << "no publish flush in " << db << "/models/LOG";
  t.start[kPublish] = flush.has_value() ? (*flush - wall_start) / 1e6 : t.start[kDone];
  return t;
}

// What the test knows of every published version: its full checksum.
using KnownVersions = std::map<uint64_t, std::string>;

// Checks the store after a kill; returns the failures (empty: ok). New
// versions (published by the killed run) must have `content` as their
// content checksum and `expected` users/items/dims; they join `known`.
std::vector<std::string> CheckStore(const std::string& dir, const std::string& content,
                                    const affinity::v1::ModelMetadata& expected,
                                    KnownVersions* known, uint64_t* live) {
  std::vector<std::string> failures;
  auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
  if (!store.ok()) return {absl::StrCat("store does not open: ", store.status().ToString())};
  auto versions = (*store)->ListVersions();
  if (!versions.ok()) return {absl::StrCat("ListVersions: ", versions.status().ToString())};
  std::map<uint64_t, bool> listed;
  for (const storage::VersionInfo& v : *versions) listed[v.version] = true;
  for (const auto& [version, checksum] : *known) {
    if (!listed.count(version)) {
      failures.push_back(absl::StrCat("version ", version, " is gone"));
      continue;
    }
    auto reader = (*store)->OpenVersion(version);
    if (!reader.ok()) {
      failures.push_back(absl::StrCat("version ", version, ": ", reader.status().ToString()));
      continue;
    }
    absl::StatusOr<std::string> now = testing::FullChecksum(**reader);
    if (!now.ok() || *now != checksum) {
      failures.push_back(absl::StrCat("version ", version, " changed: checksum ",
                                      now.ok() ? *now : now.status().ToString(), ", was ",
                                      checksum));
    }
  }
  const uint64_t newest_known = known->empty() ? 0 : known->rbegin()->first;
  for (const auto& [version, unused] : listed) {
    if (known->count(version)) continue;
    if (version <= newest_known) {
      failures.push_back(absl::StrCat("version ", version, " appeared below version ",
                                      newest_known));
    }
    auto reader = (*store)->OpenVersion(version);
    if (!reader.ok()) {
      failures.push_back(absl::StrCat("new version ", version, ": ", reader.status().ToString()));
      continue;
    }
    const affinity::v1::ModelMetadata& m = (*reader)->metadata();
    absl::StatusOr<std::string> got = testing::ContentChecksum(**reader);
    absl::StatusOr<std::string> full = testing::FullChecksum(**reader);
    if (!got.ok() || !full.ok() || *got != content || m.users() != expected.users() ||
        m.items() != expected.items() || m.dims() != expected.dims()) {
      failures.push_back(absl::StrCat(
          "new version ", version, " is incomplete: ", m.users(), " users, ", m.items(),
          " items, ", m.dims(), " dims, content checksum ",
          got.ok() ? *got : got.status().ToString(), ", expected ", expected.users(), ", ",
          expected.items(), ", ", expected.dims(), ", ", content));
      continue;
    }
    (*known)[version] = *full;
  }
  auto live_version = (*store)->LiveVersion();
  if (!live_version.ok()) {
    failures.push_back(absl::StrCat("LiveVersion: ", live_version.status().ToString()));
  } else {
    *live = *live_version;
    if (*live != known->rbegin()->first) {
      failures.push_back(absl::StrCat("live version ", *live, ", expected the newest, ",
                                      known->rbegin()->first));
    }
  }
  return failures;
}

// Starts affinity-server on the store, asks it for a user's top 10 and stops
// it; returns the failure (empty: ok).
std::string CheckServerAnswers(const std::string& dir, const std::string& log,
                               uint64_t live) {
  const pid_t pid = server::testing::Spawn(
      {kServerBinary, "--db=" + dir, "--listen=127.0.0.1:0", "--metrics_listen=",
       "--admin_listen=127.0.0.1:0", "--poll_ms=100"},
      log);
  const std::string text = WaitForLog(log, "routing (rollout revision");
  std::string failure;
  const std::optional<int> port = LoggedPort(text, "started: grpc");
  if (!port.has_value()) {
    failure = "server did not start: " + text;
  } else {
    auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", *port), grpc::InsecureChannelCredentials()));
    affinity::v1::RecommendRequest request;
    request.set_user_id("u17");
    request.set_k(10);
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->Recommend(&context, request, &response);
    if (!status.ok()) {
      failure = "Recommend failed: " + status.error_message();
    } else if (response.items_size() != 10 || response.model_version() != live) {
      failure = absl::StrCat("Recommend answered ", response.items_size(),
                             " items from version ", response.model_version(),
                             ", expected 10 from version ", live);
    }
  }
  kill(pid, SIGTERM);
  const int code = WaitExit(pid);
  if (failure.empty() && code != 0) failure = absl::StrCat("server exited with ", code);
  return failure;
}

TEST(TrainerKillTest, EveryKillLeavesPublishedVersionsIntactAndAServableStore) {
  const std::string dir = TmpDir() + "/trainer_kill";
  const std::string input = dir + "/interactions.csv";
  std::filesystem::create_directories(dir);
  WriteInteractions(input);

  // Version 1 from another seed; version 2 is the job every kill interrupts,
  // run to the end once to time its phases and to know its content.
  {
    const pid_t pid = SpawnTrainer(TrainArgs(input, dir, 11), dir + "/v1.out", dir + "/v1.err");
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(dir + "/v1.err");
  }
  const std::vector<std::string> args = TrainArgs(input, dir, 1);
  const PhaseTimes times = TimeUninterruptedRun(args, dir, dir);
  KnownVersions known;
  std::string content;
  affinity::v1::ModelMetadata expected;
  {
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint64_t v : {1, 2}) {
      auto reader = (*store)->OpenVersion(v);
      ASSERT_TRUE(reader.ok()) << reader.status();
      absl::StatusOr<std::string> full = testing::FullChecksum(**reader);
      ASSERT_TRUE(full.ok()) << full.status();
      known[v] = *full;
    }
    auto reader = (*store)->OpenVersion(2);
    absl::StatusOr<std::string> c = testing::ContentChecksum(**reader);
    ASSERT_TRUE(c.ok()) << c.status();
    content = *c;
    expected = (*reader)->metadata();
  }
  std::printf(
      "uninterrupted run: training from %.2f s, evaluation %.2f s, factor write %.2f s, "
      "publish %.2f s, published %.2f s, exit %.2f s\n",
      times.start[kTraining], times.start[kEvaluation], times.start[kFactorWrite],
      times.start[kPublish], times.start[kDone], times.exit);

  // Kill i (seed i) aims at phase (i - 1) % 4 of these, at a seeded point
  // between 10% and 90% of its length in the uninterrupted run, counted
  // from the moment the run shows it reached the phase: its progress line
  // before the phase (none for the ingest), or for the publish the table
  // file its flush writes. So a run slowed by a busy machine is still hit
  // where aimed.
  const Phase aimed_phases[] = {kIngest, kTraining, kFactorWrite, kPublish};
  struct Aim {
    // Whether the run reached the phase, given its progress lines and the
    // tables before it started; nullptr: at the start.
    std::function<bool(const std::string&, const std::set<std::string>&)> reached;
    double length;
  };
  auto after_line = [](const char* line) {
    return [line](const std::string& out, const std::set<std::string>&) {
      return out.find(line) != std::string::npos;
    };
  };
  auto aim_at = [&](Phase p) -> Aim {
    switch (p) {
      case kIngest: return {nullptr, times.start[kTraining]};
      case kTraining:
        return {after_line("read "), times.start[kEvaluation] - times.start[kTraining]};
      case kFactorWrite:
        return {after_line("users evaluated"), times.start[kPublish] - times.start[kFactorWrite]};
      default:
        return {[&](const std::string&, const std::set<std::string>& before) {
                  return PublishFlushStarted(dir, before);
                },
                times.start[kDone] - times.start[kPublish]};
    }
  };

  int hits[kPhases] = {};
  int failed_kills = 0, server_checks = 0;
  for (int i = 1; i <= kKills; ++i) {
    const int seed = i;
    std::mt19937 rng(seed);
    const Phase aim = aimed_phases[(i - 1) % 4];
    const Aim a = aim_at(aim);
    const double delay = std::uniform_real_distribution<double>(0.1, 0.9)(rng) * a.length;

    const std::string out = absl::StrCat(dir, "/kill", i, ".out");
    const std::set<std::string> tables_before = TableFiles(dir);
    const Clock::time_point start = Clock::now();
    const pid_t pid = SpawnTrainer(args, out, absl::StrCat(dir, "/kill", i, ".err"));
    Clock::time_point anchor = start;
    std::optional<int> exited;  // the run ended before the kill
    if (a.reached != nullptr) {
      while (!a.reached(ReadFile(out), tables_before) &&
             !(exited = WaitExitFor(pid, 0)).has_value()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      anchor = Clock::now();
    }
    if (!exited.has_value()) {
      std::this_thread::sleep_until(anchor + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(delay)));
      kill(pid, SIGKILL);
    }
    const int code = exited.has_value() ? *exited : WaitExit(pid);
    const double at = Seconds(Clock::now() - start);
    const Phase phase = code == 0 ? kDone : PhaseReached(ReadFile(out), dir, tables_before);
    ++hits[phase];

    std::vector<std::string> failures;
    if (code != 0 && code != 128 + SIGKILL) {
      failures.push_back(absl::StrCat("trainer exited with ", code, ": ",
                                      ReadFile(absl::StrCat(dir, "/kill", i, ".err"))));
    }
    uint64_t live = 0;
    for (std::string& f : CheckStore(dir, content, expected, &known, &live)) {
      failures.push_back(std::move(f));
    }
    const bool check_server = i % kServerEvery == 0 || i > kKills - 4;
    if (failures.empty() && check_server) {
      ++server_checks;
      std::string f = CheckServerAnswers(dir, absl::StrCat(dir, "/server", i, ".log"), live);
      if (!f.empty()) failures.push_back(std::move(f));
    }
    std::printf("kill %d/%d seed %d at %.2f s during %s (aimed at %s)%s: %s\n", i, kKills,
                seed, at, kPhaseNames[phase], kPhaseNames[aim],
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
