// What the trainer crash tests share: a generated interactions file, the
// job's arguments, running `affinity-train` to the end (timing when its
// progress lines appear) or until a SIGKILL aimed at a moment, reading from
// the store's files where its flushes are, checking a store after a kill,
// and asking a real affinity-server started on it for a Recommend.
//
// Failures are returned as text (empty or no entries: ok) so that a test
// can print one line per kill; gtest expectations only where stated.
// Thread-compatible; forks children and waits for them, nothing else.
#ifndef AFFINITY_TESTS_CRASH_TRAINER_KILL_SUPPORT_H_
#define AFFINITY_TESTS_CRASH_TRAINER_KILL_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "affinity/v1/model.pb.h"
#include "storage/model_store.h"

namespace affinity::testing {

using Clock = std::chrono::steady_clock;

inline constexpr char kTrainerBinary[] = "trainer/affinity-train";

// Users u0..u59999, items i0..i2999 (popular ones more often), weights 1..5,
// 300,000 rows: a run of about 1.5 s in which ingest, training, the factor
// write and the publish each take a tenth of a second or more.
void WriteInteractions(const std::string& path);

// A plain run of `input` into the store `db` with this seed (32 factors, 5
// iterations, 1 thread).
std::vector<std::string> TrainArgs(const std::string& input, const std::string& db, int seed);

// Forks and execs args[0]; stdout to `out_fd` (or the file `out`), stderr to
// `err`.
pid_t SpawnTrainer(const std::vector<std::string>& args, const std::string& out,
                   const std::string& err, int out_fd = -1);

double Seconds(Clock::duration d);

// When an uninterrupted run reached its marks, in seconds after its start.
struct RunTimes {
  std::vector<double> marks;  // one per mark; `exit` for a mark never printed
  // The first manual flush of the store (the first flush of a version's
  // rows), from the RocksDB LOG; nullopt when the LOG records none.
  std::optional<double> first_flush;
  double exit = 0;
};

// Runs `args` to the end in `dir` (its output in dir/timed.out), polling its
// stdout for each of `marks`. EXPECTs exit code 0.
RunTimes TimeUninterruptedRun(const std::vector<std::string>& args, const std::string& db,
                              const std::string& dir, const std::vector<std::string>& marks);

// The store's table files.
std::set<std::string> TableFiles(const std::string& db);

// Whether a table file of at least 64 KiB appeared since `before`: a flush
// of a version's rows started (a table written when the store is opened,
// from its write-ahead log, holds a few range deletions at most).
bool FlushTableStarted(const std::string& db, const std::set<std::string>& before);

// When to kill a run: `delay` seconds after `reached` (given the run's
// stdout so far and the table files before it started) first holds, or
// after the start when `reached` is null.
struct KillAim {
  std::function<bool(const std::string& out, const std::set<std::string>& tables_before)>
      reached;
  double delay = 0;
};

// A KillAim::reached that holds once the run printed `line`.
std::function<bool(const std::string&, const std::set<std::string>&)> AfterLine(
    std::string line);

struct KilledRun {
  int code = 0;     // 128 + SIGKILL when killed; the exit code when it ended first
  double at = 0;    // seconds after the start when it ended
  std::string out;  // its stdout
  std::set<std::string> tables_before;
};

// Runs `args` (stdout to `out`, stderr to `err`) and SIGKILLs it as aimed.
KilledRun RunAndKill(const std::vector<std::string>& args, const std::string& db,
                     const std::string& out, const std::string& err, const KillAim& aim);

// What the test knows of every published version: its FullChecksum.
using KnownVersions = std::map<uint64_t, std::string>;

// Reads every version of the store at `dir` into `known`, and the newest's
// content checksum and metadata (what a run of the same job publishes).
absl::Status ReadPublished(const std::string& dir, KnownVersions* known, std::string* content,
                           affinity::v1::ModelMetadata* expected);

// Checks the store after a kill; returns the failures. The store must open
// read-write; every known version must read back with its checksum; new
// versions (published by the killed run) must lie above the known ones,
// have `content` as their content checksum and `expected` users, items and
// dims, and pass `check_new` (may be null; returns a failure or ""), and
// then join `known`; the live version (in `live`) must be the newest.
std::vector<std::string> CheckStore(
    const std::string& dir, const std::string& content,
    const affinity::v1::ModelMetadata& expected, KnownVersions* known, uint64_t* live,
    const std::function<std::string(const storage::ModelVersionReader&)>& check_new = nullptr);

// What a server started on a store answered.
struct ServerAnswer {
  std::string failure;   // empty: it started, answered 10 items and exited 0
  uint64_t version = 0;  // the version it answered from
  std::string log;       // its log
};

// Starts affinity-server on the store (with `flags` added; its log in
// `log`), asks it for u17's top 10 and stops it with SIGTERM.
ServerAnswer AskServer(const std::string& dir, const std::string& log,
                       const std::vector<std::string>& flags = {});

}  // namespace affinity::testing

#endif  // AFFINITY_TESTS_CRASH_TRAINER_KILL_SUPPORT_H_
