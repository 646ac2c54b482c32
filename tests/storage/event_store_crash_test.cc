// Crash safety of the event store: a writer process is killed (SIGKILL)
// while appending; every call it had acknowledged is readable afterwards,
// the counters still equal the stored events (events and counters share
// one write batch), and the database opens read-write again.
//
// The writer is this binary re-executed with --writer-child, so that it
// starts with no threads inherited from the test process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "affinity/v1/outcomes.pb.h"
#include "gtest/gtest.h"
#include "storage/event_reader.h"
#include "storage/event_store.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using affinity::v1::Outcome;
using ::affinity::storage::testing::MakeTestDir;

constexpr char kChildFlag[] = "--writer-child";
constexpr int kAcknowledged = 200;
constexpr int64_t kStart = int64_t{1793491200} * 1000000;  // 2026-11-01

// Event number n: an impression for even n, a click for odd n.
Outcome NthEvent(int n) {
  Outcome e;
  e.set_request_id(absl::StrCat("r", n / 2));
  e.set_user_id(absl::StrCat("u", n % 17));
  e.set_arm(n % 3 == 0 ? "treatment" : "control");
  e.set_model_version(n % 3 == 0 ? 13 : 12);
  e.set_item_id(absl::StrCat("i", n % 5));
  e.set_event(n % 2 == 0 ? affinity::v1::IMPRESSION : affinity::v1::CLICK);
  e.set_at_unix_micros(kStart + n);
  return e;
}

// In the child: appends events one call at a time (two events per call),
// tells the parent after kAcknowledged events were acknowledged, and keeps
// appending until it is killed.
[[noreturn]] void WriterChild(const std::string& dir, int ready_fd) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(dir, "s1");
  if (!store.ok()) _exit(10);
  for (int n = 0;; n += 2) {
    if (!(*store)->Append({NthEvent(n), NthEvent(n + 1)}).ok()) _exit(11);
    if (!(*store)->AddRequests("control", 12, false, 1).ok()) _exit(12);
    if (n + 2 == kAcknowledged) {
      char byte = 1;
      if (write(ready_fd, &byte, 1) != 1) _exit(13);
    }
  }
}

TEST(EventStoreCrashTest, AcknowledgedAppendsSurviveAKill) {
  const std::string dir = MakeTestDir();
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  if (child == 0) {
    const std::string fd = absl::StrCat(pipe_fds[1]);
    execl("/proc/self/exe", "event_store_crash_test", kChildFlag, dir.c_str(), fd.c_str(),
          static_cast<char*>(nullptr));
    _exit(20);
  }
  ASSERT_GT(child, 0);
  close(pipe_fds[1]);
  char byte = 0;
  ASSERT_EQ(read(pipe_fds[0], &byte, 1), 1) << "writer child died early";
  close(pipe_fds[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  absl::StatusOr<std::unique_ptr<EventReader>> reader = EventReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<Outcome> events;
  ASSERT_TRUE((*reader)
                  ->ForEachEvent(0,
                                 [&](const Outcome& e) {
                                   events.push_back(e);
                                   return absl::OkStatus();
                                 })
                  .ok());
  // Every acknowledged event, then whole calls only: an even count of
  // events numbered 0, 1, 2, ... without a gap.
  ASSERT_GE(events.size(), static_cast<size_t>(kAcknowledged));
  EXPECT_EQ(events.size() % 2, 0u);
  for (size_t n = 0; n < events.size(); ++n) {
    ASSERT_EQ(events[n].SerializeAsString(), NthEvent(static_cast<int>(n)).SerializeAsString())
        << "event " << n;
  }
  absl::StatusOr<std::vector<ArmOutcomeCounts>> counts = (*reader)->Counts();
  ASSERT_TRUE(counts.ok()) << counts.status();
  int64_t impressions = 0, clicks = 0, requests = 0;
  for (const ArmOutcomeCounts& c : *counts) {
    impressions += c.counts.impressions;
    clicks += c.counts.clicks;
    requests += c.counts.requests;
  }
  EXPECT_EQ(impressions + clicks, static_cast<int64_t>(events.size()));
  EXPECT_EQ(impressions, clicks);
  // One AddRequests per acknowledged Append; the kill may fall between them.
  EXPECT_GE(requests, kAcknowledged / 2);
  EXPECT_LE(requests, static_cast<int64_t>(events.size()) / 2);
  EXPECT_GE(requests, static_cast<int64_t>(events.size()) / 2 - 1);

  // The database opens read-write again and keeps counting.
  reader->reset();
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(dir, "s1");
  ASSERT_TRUE(store.ok()) << store.status();
  const int next = static_cast<int>(events.size());
  absl::StatusOr<int64_t> added = (*store)->Append({NthEvent(next), NthEvent(next - 1)});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 1);  // event next - 1 was stored before the kill
}

}  // namespace
}  // namespace affinity::storage

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == affinity::storage::kChildFlag) {
    affinity::storage::WriterChild(argv[2], std::atoi(argv[3]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
