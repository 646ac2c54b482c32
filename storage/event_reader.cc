#include "storage/event_reader.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "storage/event_db.h"
#include "storage/event_keys.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

using affinity::v1::Outcome;

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

// An iterator over [begin, end) of one instance; the bound outlives it.
struct Cursor {
  std::string end;
  rocksdb::Slice upper;
  std::unique_ptr<rocksdb::Iterator> it;
  const std::string* path = nullptr;
};

}  // namespace

EventReader::EventReader(std::string events_dir) : events_dir_(std::move(events_dir)) {}

EventReader::~EventReader() = default;

absl::StatusOr<std::unique_ptr<EventReader>> EventReader::Open(const std::string& dir) {
  const std::string events_dir = absl::StrCat(dir, "/events");
  std::error_code ec;
  if (!std::filesystem::is_directory(events_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(
        events_dir, " does not exist: no server has recorded outcomes in ", dir));
  }
  std::unique_ptr<EventReader> reader(new EventReader(events_dir));
  if (absl::Status s = reader->OpenNewInstances(); !s.ok()) return s;
  return reader;
}

absl::Status EventReader::OpenNewInstances() {
  std::error_code ec;
  std::vector<std::string> found;
  for (std::filesystem::directory_iterator it(events_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ignored;
    // A database still being created has no CURRENT file yet.
    if (!std::filesystem::exists(it->path() / "CURRENT", ignored)) continue;
    found.push_back(name);
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", events_dir_, ": ", ec.message()));
  }
  for (const std::string& name : found) {
    const bool open = std::any_of(instances_.begin(), instances_.end(),
                                  [&](const Instance& i) { return i.name == name; });
    if (open) continue;
    absl::StatusOr<std::unique_ptr<internal::EventDb>> db =
        internal::EventDb::OpenSecondary(absl::StrCat(events_dir_, "/", name));
    if (!db.ok()) return db.status();
    instances_.push_back(Instance{name, *std::move(db)});
  }
  std::sort(instances_.begin(), instances_.end(),
            [](const Instance& a, const Instance& b) { return a.name < b.name; });
  return absl::OkStatus();
}

absl::Status EventReader::Refresh() {
  for (Instance& instance : instances_) {
    if (absl::Status s = FromRocks(instance.db->db()->TryCatchUpWithPrimary(),
                                   absl::StrCat("catching up with ", instance.db->path()));
        !s.ok()) {
      return s;
    }
  }
  return OpenNewInstances();
}

std::vector<std::string> EventReader::instances() const {
  std::vector<std::string> names;
  for (const Instance& instance : instances_) names.push_back(instance.name);
  return names;
}

absl::StatusOr<std::vector<ArmOutcomeCounts>> EventReader::Counts() const {
  absl::btree_map<std::tuple<std::string, uint64_t, bool>, OutcomeCounts> sums;
  const std::string begin = event_keys::CountersBegin();
  const std::string end = event_keys::CountersEnd();
  for (const Instance& instance : instances_) {
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(instance.db->db()->NewIterator(options));
    for (it->Seek(begin); it->Valid(); it->Next()) {
      std::optional<event_keys::CounterId> id = event_keys::ParseCounter(View(it->key()));
      std::optional<uint64_t> count = event_keys::DecodeCount(View(it->value()));
      if (!id.has_value() || !count.has_value()) {
        return absl::DataLossError(absl::StrCat(
            instance.db->path(), ": malformed counter (key of ", it->key().size(),
            " bytes, value of ", it->value().size(), " bytes)"));
      }
      OutcomeCounts& sum = sums[{id->arm, id->model_version, id->forced}];
      const int64_t n = static_cast<int64_t>(*count);
      switch (id->kind) {
        case event_keys::CounterKind::kRequests:
          sum.requests += n;
          break;
        case event_keys::CounterKind::kImpressions:
          sum.impressions += n;
          break;
        case event_keys::CounterKind::kClicks:
          sum.clicks += n;
          break;
        case event_keys::CounterKind::kConversions:
          sum.conversions += n;
          break;
      }
    }
    if (absl::Status s =
            FromRocks(it->status(), absl::StrCat("reading counters of ", instance.db->path()));
        !s.ok()) {
      return s;
    }
  }
  std::vector<ArmOutcomeCounts> out;
  out.reserve(sums.size());
  for (auto& [key, counts] : sums) {
    out.push_back(ArmOutcomeCounts{std::get<0>(key), std::get<1>(key), std::get<2>(key),
                                   counts});
  }
  return out;
}

absl::Status EventReader::ForEachEvent(
    int64_t since_unix_micros, int64_t until_unix_micros,
    const std::function<absl::Status(const Outcome&)>& fn) const {
  if (until_unix_micros <= since_unix_micros) return absl::OkStatus();
  const std::string begin = event_keys::EventsFrom(since_unix_micros);
  std::vector<Cursor> cursors(instances_.size());
  for (size_t i = 0; i < instances_.size(); ++i) {
    Cursor& c = cursors[i];
    c.end = event_keys::EventsFrom(until_unix_micros);
    c.upper = rocksdb::Slice(c.end);
    c.path = &instances_[i].db->path();
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &c.upper;
    options.fill_cache = false;
    c.it.reset(instances_[i].db->db()->NewIterator(options));
    c.it->Seek(begin);
  }
  Outcome outcome;
  while (true) {
    // The smallest current key; the first instance wins ties.
    Cursor* next = nullptr;
    for (Cursor& c : cursors) {
      if (!c.it->Valid()) continue;
      if (next == nullptr || c.it->key().compare(next->it->key()) < 0) next = &c;
    }
    if (next == nullptr) break;
    const rocksdb::Slice value = next->it->value();
    if (!outcome.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat(
          *next->path, ": event record at ",
          event_keys::ParseEventTime(View(next->it->key())).value_or(-1),
          " us does not parse"));
    }
    if (absl::Status s = fn(outcome); !s.ok()) return s;
    next->it->Next();
  }
  for (const Cursor& c : cursors) {
    if (absl::Status s = FromRocks(c.it->status(), absl::StrCat("reading events of ", *c.path));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace affinity::storage
