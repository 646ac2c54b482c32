// Measures the model store: writing and publishing one synthetic version,
// opening it, reading every item vector, and random user lookups. Prints
// seconds and MB/s per phase.
//
//   bazel run //storage:store_bench -- --users=500000 --items=100000 --dims=64
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "storage/model_store.h"

ABSL_FLAG(std::string, dir, "",
          "store directory (default: a fresh directory under /tmp, removed after)");
ABSL_FLAG(int, users, 500000, "users in the version");
ABSL_FLAG(int, items, 100000, "items in the version");
ABSL_FLAG(int, dims, 64, "floats per vector");
ABSL_FLAG(int, seen, 40, "seen items per user");
ABSL_FLAG(int, lookups, 200000, "random user lookups");

namespace affinity::storage {
namespace {

double Mb(double bytes) { return bytes / (1024.0 * 1024.0); }

void Report(const char* phase, absl::Duration elapsed, double bytes) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  std::printf("%-34s %8.3f s  %9.1f MB  %9.1f MB/s\n", phase, seconds, Mb(bytes),
              Mb(bytes) / seconds);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

int Run() {
  const int users = absl::GetFlag(FLAGS_users);
  const int items = absl::GetFlag(FLAGS_items);
  const int dims = absl::GetFlag(FLAGS_dims);
  const int seen_per_user = absl::GetFlag(FLAGS_seen);
  std::string dir = absl::GetFlag(FLAGS_dir);
  const bool temporary = dir.empty();
  if (temporary) {
    char pattern[] = "/tmp/store_bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return Fail(absl::UnavailableError("mkdtemp"));
    dir = pattern;
  }

  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::uniform_int_distribution<uint32_t> pick_item(0, items - 1);
  std::vector<float> item_factors(static_cast<size_t>(items) * dims);
  for (float& f : item_factors) f = normal(rng);
  std::vector<float> user_factors(static_cast<size_t>(users) * dims);
  for (float& f : user_factors) f = normal(rng);
  std::vector<uint32_t> seen(static_cast<size_t>(users) * seen_per_user);
  for (uint32_t& s : seen) s = pick_item(rng);
  std::vector<std::string> user_ids(users), item_ids(items);
  for (int u = 0; u < users; ++u) user_ids[u] = absl::StrCat("user", u);
  for (int i = 0; i < items; ++i) item_ids[i] = absl::StrCat("item", i);
  const double payload =
      4.0 * (item_factors.size() + user_factors.size() + seen.size());
  std::printf("version: %d users x %d dims, %d seen each; %d items; %.1f MB of "
              "vectors and seen lists\n",
              users, dims, seen_per_user, items, Mb(payload));

  {
    absl::StatusOr<std::unique_ptr<ModelStore>> store =
        ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    if (!store.ok()) return Fail(store.status());
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<VersionWriter>> writer = (*store)->CreateVersion();
    if (!writer.ok()) return Fail(writer.status());
    for (int i = 0; i < items; ++i) {
      absl::Status s = (*writer)->AddItem(
          i, item_ids[i], absl::MakeConstSpan(&item_factors[size_t{1} * i * dims], dims));
      if (!s.ok()) return Fail(s);
    }
    for (int u = 0; u < users; ++u) {
      absl::Status s = (*writer)->AddUser(
          u, user_ids[u], absl::MakeConstSpan(&user_factors[size_t{1} * u * dims], dims),
          absl::MakeConstSpan(&seen[size_t{1} * u * seen_per_user], seen_per_user));
      if (!s.ok()) return Fail(s);
    }
    std::vector<uint32_t> popular(std::min(items, 1000));
    for (size_t i = 0; i < popular.size(); ++i) popular[i] = i;
    if (absl::Status s = (*writer)->SetPopularItems(popular); !s.ok()) return Fail(s);
    const absl::Duration added = absl::Now() - start;
    affinity::v1::ModelMetadata metadata;
    metadata.set_dims(dims);
    metadata.set_users(users);
    metadata.set_items(items);
    if (absl::Status s = (*writer)->Publish(metadata); !s.ok()) return Fail(s);
    const absl::Duration total = absl::Now() - start;
    Report("write (Add* calls)", added, payload);
    Report("write + publish (flush, sync)", total, payload);
  }

  // Reads as a server does: a follower opened after the trainer finished.
  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Open(dir, ModelStore::Mode::kFollower);
  if (!store.ok()) return Fail(store.status());
  absl::StatusOr<uint64_t> live = (*store)->LiveVersion();
  if (!live.ok()) return Fail(live.status());
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader =
      (*store)->OpenVersion(*live);
  if (!reader.ok()) return Fail(reader.status());
  Report("open version (item ids)", absl::Now() - start,
         4.0 * item_factors.size());
  std::vector<float> read_items(item_factors.size());
  start = absl::Now();
  if (absl::Status s = (*reader)->ReadItemFactors(absl::MakeSpan(read_items)); !s.ok()) {
    return Fail(s);
  }
  Report("read all item factors", absl::Now() - start, 4.0 * read_items.size());
  if (read_items != item_factors) {
    return Fail(absl::DataLossError("item factors read back differ"));
  }

  const int lookups = absl::GetFlag(FLAGS_lookups);
  std::uniform_int_distribution<int> pick_user(0, users - 1);
  for (const char* round : {"random user lookups (cold)", "random user lookups (warm)"}) {
    start = absl::Now();
    double bytes = 0;
    for (int n = 0; n < lookups; ++n) {
      absl::StatusOr<UserRecord> user = (*reader)->GetUser(user_ids[pick_user(rng)]);
      if (!user.ok()) return Fail(user.status());
      bytes += 16 + 4.0 * (user->factors.size() + user->seen.size());
    }
    const absl::Duration elapsed = absl::Now() - start;
    Report(round, elapsed, bytes);
    std::printf("%-34s %8.1f us/lookup  %9.0f lookups/s\n", "",
                absl::ToDoubleMicroseconds(elapsed) / lookups,
                lookups / absl::ToDoubleSeconds(elapsed));
  }
  reader->reset();
  store->reset();
  std::error_code ec;
  std::uintmax_t disk = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) disk += entry.file_size(ec);
  }
  std::printf("store size on disk: %.1f MB\n", Mb(static_cast<double>(disk)));
  if (temporary) std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace
}  // namespace affinity::storage

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return affinity::storage::Run();
}
