// Crash safety of the trainer's stored index end to end: `affinity-train
// --build_index=hnsw` on a generated interactions file is SIGKILLed at
// seeded moments while it builds the items' HNSW graph, while it writes the
// graph into the store (its chunks' flush and the synced header) and during
// the publish that follows. After every kill:
//  - a real affinity-server (--scorer=hnsw, never writing to the store)
//    started on the store as the kill left it answers a Recommend, and every
//    model it loads says "index loaded from the store": each published
//    version was published with its index, so a server that found none, or
//    one failing its checks, and built its own shows a defect;
//  - the store opens read-write, every version published before reads back
//    with the same checksum, its stored index included (header and blob),
//    and a version the killed run published is complete: its content equals
//    an uninterrupted run's and its stored graph passes the checks a server
//    makes before using it (server/scoring/hnsw_index_io.h, LoadHnswIndex);
//  - the server answered from the live version.
//
// Kills are aimed as in trainer_kill_test (helpers in
// trainer_kill_support.h): from the moment the run shows it reached the
// phase (a progress line, or for the index write the table file of the
// flush that makes its chunks durable) plus a seeded share of the phase's
// length in an uninterrupted run. Every kill prints a line, the test a
// summary line.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"
#include "tests/crash/trainer_kill_support.h"
#include "tests/server/server_process.h"

namespace affinity {
namespace {

using server::testing::ReadFile;
using server::testing::TmpDir;
using server::testing::WaitExit;

constexpr int kKills = 15;

// The phases of a --build_index=hnsw run from its evaluation on. The build
// comes before the store is opened; then the version's rows are written
// (kVersionWrite), then the graph's chunks, flushed with the rows so far
// before its header's synced write (kIndexWrite), then the publish flushes
// the last rows and writes the version's marker. kBeforeBuild and
// kVersionWrite are reported but not aimed at; kDone is aimed at through
// the run's last moments, after its version was published, so that a
// version published in the loop is checked too.
enum Phase { kBeforeBuild, kIndexBuild, kVersionWrite, kIndexWrite, kPublish, kDone, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"before the build", "index build",
                                              "version write",    "index write",
                                              "publish",          "after publish"};

// The progress lines at the end of the evaluation, of the build and of the
// index write (model_publisher.h).
constexpr char kEvaluated[] = "users evaluated";
constexpr char kBuilt[] = " built in ";
constexpr char kStored[] = "bytes stored with the version";
constexpr char kPublished[] = "published model version";

std::vector<std::string> IndexTrainArgs(const std::string& input, const std::string& db,
                                        int seed) {
  std::vector<std::string> args = testing::TrainArgs(input, db, seed);
  args.push_back("--build_index=hnsw");
  return args;
}

// The phase a killed run was in, from its progress lines and the tables it
// left.
Phase PhaseReached(const testing::KilledRun& run, const std::string& db) {
  if (run.code == 0 || run.out.find(kPublished) != std::string::npos) return kDone;
  if (run.out.find(kStored) != std::string::npos) return kPublish;
  if (run.out.find(kBuilt) != std::string::npos) {
    return testing::FlushTableStarted(db, run.tables_before) ? kIndexWrite : kVersionWrite;
  }
  if (run.out.find(kEvaluated) != std::string::npos) return kIndexBuild;
  return kBeforeBuild;
}

// The server's HNSW parameters, as the trainer builds with them.
server::ScorerOptions HnswOptions() {
  server::ScorerOptions options;
  options.kind = server::ScorerKind::kHnsw;
  options.build_threads = 1;
  return options;
}

// "" when `version` holds one stored index, the HNSW graph of its item
// vectors, and it passes every check a server makes before using it; what
// is wrong otherwise.
std::string CheckStoredIndex(const storage::ModelVersionReader& version) {
  const affinity::v1::ModelMetadata& m = version.metadata();
  auto headers = version.ListIndexes();
  if (!headers.ok()) return absl::StrCat("ListIndexes: ", headers.status().ToString());
  if (headers->size() != 1 || (*headers)[0].kind() != "hnsw") {
    std::vector<std::string> names;
    for (const auto& h : *headers) names.push_back(absl::StrCat(h.kind(), "/", h.params()));
    return absl::StrCat("published without its index: stored indexes [",
                        absl::StrJoin(names, ", "), "], expected one hnsw");
  }
  const size_t rows = static_cast<size_t>(m.items()), dims = static_cast<size_t>(m.dims());
  std::vector<float> dense(rows * dims);
  if (absl::Status s = version.ReadItemFactors(absl::MakeSpan(dense)); !s.ok()) {
    return absl::StrCat("item vectors: ", s.ToString());
  }
  std::shared_ptr<const server::ItemMatrix> items =
      server::ItemMatrix::FromDense(dense, rows, dims);
  auto loaded =
      server::LoadHnswIndex(version, items, storage::ItemVectorsSha256(dense), HnswOptions());
  if (!loaded.ok()) {
    return absl::StrCat("stored index fails its checks: ", loaded.status().ToString());
  }
  return "";
}

// Failures of a server's log: a model loaded without its stored index, or
// no model loaded for the version it answered from.
std::vector<std::string> CheckServerLog(const std::string& log, uint64_t answered) {
  std::vector<std::string> failures;
  bool answered_loaded = false;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (line.find("model loaded: ") == absl::string_view::npos) continue;
    if (line.find("(index loaded from the store in ") == absl::string_view::npos) {
      failures.push_back(absl::StrCat("server did not use a stored index: ", line));
    }
    if (line.find(absl::StrCat("model loaded: version ", answered, ",")) !=
        absl::string_view::npos) {
      answered_loaded = true;
    }
  }
  if (!answered_loaded) {
    failures.push_back(absl::StrCat("server logs no load of version ", answered));
  }
  return failures;
}

TEST(TrainerIndexKillTest, KillsDuringTheIndexBuildAndWriteNeverLeaveAPartialIndexInUse) {
  const std::string dir = TmpDir() + "/trainer_index_kill";
  const std::string input = dir + "/interactions.csv";
  std::filesystem::create_directories(dir);
  testing::WriteInteractions(input);

  // Version 1 from another seed; version 2 is the job every kill interrupts,
  // run to the end once to time its phases and to know its content.
  {
    const pid_t pid = testing::SpawnTrainer(IndexTrainArgs(input, dir, 11), dir + "/v1.out",
                                            dir + "/v1.err");
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(dir + "/v1.err");
  }
  const std::vector<std::string> args = IndexTrainArgs(input, dir, 1);
  const testing::RunTimes timed =
      testing::TimeUninterruptedRun(args, dir, dir, {kEvaluated, kBuilt, kStored, kPublished});
  // The first manual flush of the run is the index write's.
  ASSERT_TRUE(timed.first_flush.has_value()) << "no index flush in " << dir << "/models/LOG";
  const double start[kPhases] = {0,
                                 timed.marks[0],
                                 timed.marks[1],
                                 *timed.first_flush,
                                 timed.marks[2],
                                 timed.marks[3]};
  testing::KnownVersions known;
  std::string content;
  affinity::v1::ModelMetadata expected;
  {
    const absl::Status read = testing::ReadPublished(dir, &known, &content, &expected);
    ASSERT_TRUE(read.ok()) << read;
    ASSERT_EQ(known.size(), 2u);
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint64_t v : {1, 2}) {
      auto reader = (*store)->OpenVersion(v);
      ASSERT_TRUE(reader.ok()) << reader.status();
      EXPECT_EQ(CheckStoredIndex(**reader), "") << "version " << v;
    }
  }
  std::printf(
      "uninterrupted run: index build from %.2f s (%.2f s), version write from %.2f s "
      "(%.2f s), index write from %.2f s (%.2f s), publish from %.2f s (%.2f s), "
      "published %.2f s, exit %.2f s\n",
      start[kIndexBuild], start[kVersionWrite] - start[kIndexBuild], start[kVersionWrite],
      start[kIndexWrite] - start[kVersionWrite], start[kIndexWrite],
      start[kPublish] - start[kIndexWrite], start[kPublish], start[kDone] - start[kPublish],
      start[kDone], timed.exit);

  // Kill i (seed i) aims at phase (i - 1) % 5 of these, at a seeded point
  // between 10% and 90% of its length in the uninterrupted run, counted from
  // the moment the run shows it reached the phase (for kDone: from the
  // "published" line to the exit). The index write, a few hundredths of a
  // second, is aimed at twice as often.
  const Phase aimed_phases[] = {kIndexBuild, kIndexWrite, kPublish, kDone, kIndexWrite};
  auto aim_at = [&](Phase p) -> std::pair<testing::KillAim, double> {
    switch (p) {
      case kIndexBuild:
        return {{testing::AfterLine(kEvaluated)}, start[kVersionWrite] - start[kIndexBuild]};
      case kIndexWrite:
        return {{[&](const std::string&, const std::set<std::string>& before) {
                  return testing::FlushTableStarted(dir, before);
                }},
                start[kPublish] - start[kIndexWrite]};
      case kPublish:
        return {{testing::AfterLine(kStored)}, start[kDone] - start[kPublish]};
      default:
        return {{testing::AfterLine(kPublished)}, timed.exit - start[kDone]};
    }
  };

  int hits[kPhases] = {};
  int failed_kills = 0;
  for (int i = 1; i <= kKills; ++i) {
    const int seed = i;
    std::mt19937 rng(seed);
    const Phase aim = aimed_phases[(i - 1) % 5];
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
    // The server first, on the store as the kill left it (nothing removed
    // yet by a read-write open).
    const testing::ServerAnswer answer = testing::AskServer(
        dir, absl::StrCat(dir, "/server", i, ".log"),
        {"--scorer=hnsw", "--store_built_index=false"});
    if (!answer.failure.empty()) {
      failures.push_back(answer.failure);
    } else {
      for (std::string& f : CheckServerLog(answer.log, answer.version)) {
        failures.push_back(std::move(f));
      }
    }
    uint64_t live = 0;
    for (std::string& f :
         testing::CheckStore(dir, content, expected, &known, &live, CheckStoredIndex)) {
      failures.push_back(std::move(f));
    }
    if (answer.failure.empty() && answer.version != live) {
      failures.push_back(absl::StrCat("server answered from version ", answer.version,
                                      ", live is ", live));
    }
    std::printf("kill %d/%d seed %d at %.2f s during %s (aimed at %s), server answers from "
                "version %llu: %s\n",
                i, kKills, seed, run.at, kPhaseNames[phase], kPhaseNames[aim],
                static_cast<unsigned long long>(answer.version),
                failures.empty() ? "ok" : absl::StrJoin(failures, "; ").c_str());
    std::fflush(stdout);
    EXPECT_TRUE(failures.empty()) << "kill " << i << ": " << absl::StrJoin(failures, "; ");
    failed_kills += !failures.empty();
  }
  std::vector<std::string> by_phase;
  for (int p = 0; p < kPhases; ++p) {
    by_phase.push_back(absl::StrCat(kPhaseNames[p], " ", hits[p]));
  }
  std::printf("trainer index kills: %d (%s), %zu versions published in all, %d failed\n",
              kKills, absl::StrJoin(by_phase, ", ").c_str(), known.size(), failed_kills);
}

}  // namespace
}  // namespace affinity
