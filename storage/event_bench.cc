// Measures the outcome event store: Append calls of 1 and of --batch events
// with the write-ahead log fsynced per call (the default) and without, then
// reading every event back in time order and summing the counters through
// an EventReader. Prints calls/s and events/s per phase.
//
//   bazel run //storage:event_bench -- --events=20000 --batch=100
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "affinity/v1/outcomes.pb.h"
#include "storage/event_reader.h"
#include "storage/event_store.h"

ABSL_FLAG(std::string, dir, "",
          "store directory (default: a fresh directory under /tmp, removed after)");
ABSL_FLAG(int, events, 20000, "events appended per phase");
ABSL_FLAG(int, batch, 100, "events per Append call in the batched phases");

namespace affinity::storage {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

affinity::v1::Outcome MakeEvent(int64_t n) {
  affinity::v1::Outcome e;
  e.set_request_id(absl::StrCat("req-", n / 10));
  e.set_user_id(absl::StrCat("user-", n % 50000));
  e.set_session_id(absl::StrCat("session-", n % 70000));
  e.set_arm(n % 10 == 0 ? "treatment" : "control");
  e.set_model_version(n % 10 == 0 ? 13 : 12);
  e.set_item_id(absl::StrCat("item-", (n * 7919) % 100000));
  e.set_event(n % 20 == 0 ? affinity::v1::CLICK : affinity::v1::IMPRESSION);
  e.set_at_unix_micros(int64_t{1793491200} * 1000000 + n * 1000);
  return e;
}

void Report(const std::string& phase, absl::Duration elapsed, int64_t calls, int64_t events) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  std::printf("%-40s %8.3f s", phase.c_str(), seconds);
  if (calls > 0) std::printf("  %10.0f calls/s", calls / seconds);
  if (events > 0) std::printf("  %10.0f events/s", events / seconds);
  std::printf("\n");
}

// Appends `count` events starting at number `first`, `batch` per call.
absl::Status AppendPhase(const std::string& dir, const std::string& instance, bool sync,
                         int batch, int64_t first, int64_t count) {
  EventStoreOptions options;
  options.sync = sync;
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(dir, instance, options);
  if (!store.ok()) return store.status();
  std::vector<affinity::v1::Outcome> events;
  const absl::Time start = absl::Now();
  int64_t calls = 0;
  for (int64_t n = first; n < first + count; n += batch) {
    events.clear();
    for (int64_t i = n; i < std::min(n + batch, first + count); ++i) {
      events.push_back(MakeEvent(i));
    }
    absl::StatusOr<int64_t> added = (*store)->Append(events);
    if (!added.ok()) return added.status();
    ++calls;
  }
  Report(absl::StrCat("append, ", batch, " per call, ", sync ? "fsync" : "no fsync"),
         absl::Now() - start, calls, count);
  return absl::OkStatus();
}

int Run() {
  const int64_t events = absl::GetFlag(FLAGS_events);
  const int batch = absl::GetFlag(FLAGS_batch);
  std::string dir = absl::GetFlag(FLAGS_dir);
  const bool temporary = dir.empty();
  if (temporary) {
    char pattern[] = "/tmp/event_bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return Fail(absl::UnavailableError("mkdtemp"));
    dir = pattern;
  }
  // Small single-event phases: an fsync per call bounds them.
  const int64_t singles = std::min<int64_t>(events, 2000);
  struct Phase {
    bool sync;
    int batch;
    int64_t count;
  };
  const Phase phases[] = {{true, 1, singles},
                          {false, 1, events},
                          {true, batch, events},
                          {false, batch, events}};
  int64_t first = 0;
  for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); ++i) {
    const Phase& p = phases[i];
    if (absl::Status s = AppendPhase(dir, absl::StrCat("bench-", i), p.sync, p.batch, first,
                                     p.count);
        !s.ok()) {
      return Fail(s);
    }
    first += p.count;
  }

  absl::StatusOr<std::unique_ptr<EventReader>> reader = EventReader::Open(dir);
  if (!reader.ok()) return Fail(reader.status());
  absl::Time start = absl::Now();
  int64_t read = 0;
  absl::Status s = (*reader)->ForEachEvent(0, [&](const affinity::v1::Outcome&) {
    ++read;
    return absl::OkStatus();
  });
  if (!s.ok()) return Fail(s);
  Report(absl::StrCat("read all, ", (*reader)->instances().size(), " instances, time order"),
         absl::Now() - start, 0, read);
  start = absl::Now();
  absl::StatusOr<std::vector<ArmOutcomeCounts>> counts = (*reader)->Counts();
  if (!counts.ok()) return Fail(counts.status());
  Report(absl::StrCat("counts (", counts->size(), " groups)"), absl::Now() - start, 0, 0);
  int64_t counted = 0;
  for (const ArmOutcomeCounts& c : *counts) counted += c.counts.impressions + c.counts.clicks;
  std::printf("events appended %lld, read %lld, counted %lld\n", static_cast<long long>(first),
              static_cast<long long>(read), static_cast<long long>(counted));
  reader->reset();
  if (temporary) std::filesystem::remove_all(dir);
  return read == first && counted == first ? 0 : 1;
}

}  // namespace
}  // namespace affinity::storage

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return affinity::storage::Run();
}
