#include "tests/crash/trainer_kill_support.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/crash/version_checksum.h"
#include "tests/server/server_process.h"

namespace affinity::testing {

using server::testing::kServerBinary;
using server::testing::LoggedPort;
using server::testing::ReadFile;
using server::testing::WaitExit;
using server::testing::WaitExitFor;
using server::testing::WaitForLog;

namespace {

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wall-clock microseconds of the first manual flush in the store's current
// RocksDB LOG (written by the last process that opened it and closed it:
// RocksDB writes its LOG lazily, so a killed run's may lack its last
// lines); nullopt when the LOG records none.
std::optional<int64_t> FirstManualFlushMicros(const std::string& db) {
  static const std::regex kFlush(
      R"re("time_micros": (\d+), "job": \d+, "event": "flush_started"[^\n]*"Manual Flush")re");
  const std::string log = ReadFile(db + "/models/LOG");
  std::smatch m;
  if (!std::regex_search(log, m, kFlush)) return std::nullopt;
  return std::stoll(m[1]);
}

}  // namespace

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

pid_t SpawnTrainer(const std::vector<std::string>& args, const std::string& out,
                   const std::string& err, int out_fd) {
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

RunTimes TimeUninterruptedRun(const std::vector<std::string>& args, const std::string& db,
                              const std::string& dir, const std::vector<std::string>& marks) {
  RunTimes t;
  t.marks.assign(marks.size(), -1);
  const std::string out = dir + "/timed.out";
  const int64_t wall_start = WallMicros();
  const Clock::time_point start = Clock::now();
  const pid_t pid = SpawnTrainer(args, out, dir + "/timed.err");
  std::optional<int> code;
  while (!(code = WaitExitFor(pid, 0)).has_value()) {
    const std::string text = ReadFile(out);
    for (size_t i = 0; i < marks.size(); ++i) {
      if (t.marks[i] < 0 && text.find(marks[i]) != std::string::npos) {
        t.marks[i] = Seconds(Clock::now() - start);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  t.exit = Seconds(Clock::now() - start);
  EXPECT_EQ(*code, 0) << ReadFile(dir + "/timed.err");
  for (double& mark : t.marks) {
    if (mark < 0) mark = t.exit;
  }
  if (const std::optional<int64_t> flush = FirstManualFlushMicros(db); flush.has_value()) {
    t.first_flush = (*flush - wall_start) / 1e6;
  }
  return t;
}

std::set<std::string> TableFiles(const std::string& db) {
  std::set<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(db + "/models", ec)) {
    if (entry.path().extension() == ".sst") files.insert(entry.path().filename());
  }
  return files;
}

bool FlushTableStarted(const std::string& db, const std::set<std::string>& before) {
  std::error_code ec;
  for (const std::string& file : TableFiles(db)) {
    if (before.count(file)) continue;
    if (std::filesystem::file_size(db + "/models/" + file, ec) >= (64u << 10)) return true;
  }
  return false;
}

std::function<bool(const std::string&, const std::set<std::string>&)> AfterLine(
    std::string line) {
  return [line = std::move(line)](const std::string& out, const std::set<std::string>&) {
    return out.find(line) != std::string::npos;
  };
}

KilledRun RunAndKill(const std::vector<std::string>& args, const std::string& db,
                     const std::string& out, const std::string& err, const KillAim& aim) {
  KilledRun run;
  run.tables_before = TableFiles(db);
  const Clock::time_point start = Clock::now();
  const pid_t pid = SpawnTrainer(args, out, err);
  Clock::time_point anchor = start;
  std::optional<int> exited;  // the run ended before the kill
  if (aim.reached != nullptr) {
    while (!aim.reached(ReadFile(out), run.tables_before) &&
           !(exited = WaitExitFor(pid, 0)).has_value()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    anchor = Clock::now();
  }
  if (!exited.has_value()) {
    std::this_thread::sleep_until(anchor + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(aim.delay)));
    kill(pid, SIGKILL);
  }
  run.code = exited.has_value() ? *exited : WaitExit(pid);
  run.at = Seconds(Clock::now() - start);
  run.out = ReadFile(out);
  return run;
}

absl::Status ReadPublished(const std::string& dir, KnownVersions* known, std::string* content,
                           affinity::v1::ModelMetadata* expected) {
  auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  auto versions = (*store)->ListVersions();
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return absl::NotFoundError(absl::StrCat(dir, ": no version"));
  for (const storage::VersionInfo& v : *versions) {
    auto reader = (*store)->OpenVersion(v.version);
    if (!reader.ok()) return reader.status();
    absl::StatusOr<std::string> full = FullChecksum(**reader);
    if (!full.ok()) return full.status();
    (*known)[v.version] = *full;
  }
  auto reader = (*store)->OpenVersion(known->rbegin()->first);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::string> c = ContentChecksum(**reader);
  if (!c.ok()) return c.status();
  *content = *c;
  *expected = (*reader)->metadata();
  return absl::OkStatus();
}

std::vector<std::string> CheckStore(
    const std::string& dir, const std::string& content,
    const affinity::v1::ModelMetadata& expected, KnownVersions* known, uint64_t* live,
    const std::function<std::string(const storage::ModelVersionReader&)>& check_new) {
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
    absl::StatusOr<std::string> now = FullChecksum(**reader);
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
    absl::StatusOr<std::string> got = ContentChecksum(**reader);
    absl::StatusOr<std::string> full = FullChecksum(**reader);
    if (!got.ok() || !full.ok() || *got != content || m.users() != expected.users() ||
        m.items() != expected.items() || m.dims() != expected.dims()) {
      failures.push_back(absl::StrCat(
          "new version ", version, " is incomplete: ", m.users(), " users, ", m.items(),
          " items, ", m.dims(), " dims, content checksum ",
          got.ok() ? *got : got.status().ToString(), ", full checksum ",
          full.ok() ? *full : full.status().ToString(), ", expected ", expected.users(), ", ",
          expected.items(), ", ", expected.dims(), ", ", content));
      continue;
    }
    if (check_new != nullptr) {
      if (std::string f = check_new(**reader); !f.empty()) {
        failures.push_back(absl::StrCat("new version ", version, ": ", f));
        continue;
      }
    }
    (*known)[version] = *full;
  }
  auto live_version = (*store)->LiveVersion();
  if (!live_version.ok()) {
    failures.push_back(absl::StrCat("LiveVersion: ", live_version.status().ToString()));
  } else if (known->empty()) {
    failures.push_back("no version is known");
  } else {
    *live = *live_version;
    if (*live != known->rbegin()->first) {
      failures.push_back(absl::StrCat("live version ", *live, ", expected the newest, ",
                                      known->rbegin()->first));
    }
  }
  return failures;
}

ServerAnswer AskServer(const std::string& dir, const std::string& log,
                       const std::vector<std::string>& flags) {
  std::vector<std::string> args = {kServerBinary,           "--db=" + dir,
                                   "--listen=127.0.0.1:0",  "--metrics_listen=",
                                   "--admin_listen=127.0.0.1:0", "--poll_ms=100"};
  args.insert(args.end(), flags.begin(), flags.end());
  const pid_t pid = server::testing::Spawn(args, log);
  const std::string text = WaitForLog(log, "routing (rollout revision");
  ServerAnswer answer;
  const std::optional<int> port = LoggedPort(text, "started: grpc");
  if (!port.has_value()) {
    answer.failure = "server did not start: " + text;
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
      answer.failure = "Recommend failed: " + status.error_message();
    } else if (response.items_size() != 10) {
      answer.failure = absl::StrCat("Recommend answered ", response.items_size(),
                                    " items, expected 10");
    }
    answer.version = response.model_version();
  }
  kill(pid, SIGTERM);
  const int code = WaitExit(pid);
  if (answer.failure.empty() && code != 0) {
    answer.failure = absl::StrCat("server exited with ", code);
  }
  answer.log = ReadFile(log);
  return answer;
}

}  // namespace affinity::testing
