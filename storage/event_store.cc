#include "storage/event_store.h"

#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/event_db.h"
#include "storage/event_keys.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

using affinity::v1::Outcome;

constexpr size_t kMaxInstanceBytes = 128;

absl::Status CheckInstance(const std::string& instance) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "instance \"", instance, "\": ", why,
        ", expected 1-128 letters, digits, '.', '_' or '-', not starting with '.'"));
  };
  if (instance.empty()) return bad("empty");
  if (instance.size() > kMaxInstanceBytes) return bad("too long");
  if (instance[0] == '.') return bad("starts with '.'");
  for (char c : instance) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return bad(absl::StrCat("has the byte '", std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckField(size_t index, absl::string_view field, absl::string_view value,
                        bool required) {
  if (required && value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("events[", index, "].", field, ": empty, expected a value"));
  }
  if (value.size() > kMaxOutcomeFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("events[", index, "].", field, ": ", value.size(),
                     " bytes, expected at most ", kMaxOutcomeFieldBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckEvent(size_t i, const Outcome& e) {
  if (!event_keys::KindOfEvent(e.event()).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("events[", i, "].event: ", affinity::v1::EventType_Name(e.event()),
                     " (", static_cast<int>(e.event()),
                     "), expected IMPRESSION, CLICK or CONVERSION"));
  }
  if (e.at_unix_micros() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("events[", i, "].at_unix_micros: ", e.at_unix_micros(),
                     ", expected microseconds since the Unix epoch (> 0)"));
  }
  struct Field {
    absl::string_view name;
    absl::string_view value;
    bool required;
  };
  const Field fields[] = {{"arm", e.arm(), true},
                          {"item_id", e.item_id(), true},
                          {"user_id", e.user_id(), false},
                          {"request_id", e.request_id(), false},
                          {"session_id", e.session_id(), false}};
  for (const Field& f : fields) {
    if (absl::Status s = CheckField(i, f.name, f.value, f.required); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

EventStore::EventStore(std::unique_ptr<internal::EventDb> db, EventStoreOptions options)
    : db_(std::move(db)), options_(options) {}

EventStore::~EventStore() = default;

const std::string& EventStore::path() const { return db_->path(); }

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(
    const std::string& dir, const std::string& instance,
    const EventStoreOptions& options) {
  if (absl::Status s = CheckInstance(instance); !s.ok()) return s;
  if (options.retention_days < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retention_days: ", options.retention_days, ", expected >= 0 (0 keeps events)"));
  }
  absl::StatusOr<std::unique_ptr<internal::EventDb>> db =
      internal::EventDb::OpenPrimary(absl::StrCat(dir, "/events/", instance));
  if (!db.ok()) return db.status();
  return std::unique_ptr<EventStore>(new EventStore(*std::move(db), options));
}

absl::StatusOr<int64_t> EventStore::Append(absl::Span<const Outcome> events,
                                           std::vector<bool>* stored) {
  if (stored != nullptr) stored->assign(events.size(), false);
  for (size_t i = 0; i < events.size(); ++i) {
    if (absl::Status s = CheckEvent(i, events[i]); !s.ok()) return s;
  }
  // Distinct event keys of this call, first occurrence kept.
  std::vector<std::string> keys;
  std::vector<size_t> positions;  // of each key's event in `events`
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    std::string key = event_keys::Event(events[i]);
    if (!seen.insert(key).second) continue;
    keys.push_back(std::move(key));
    positions.push_back(i);
  }
  if (keys.empty()) return 0;

  absl::MutexLock lock(&append_mutex_);
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->db()->MultiGet(rocksdb::ReadOptions(), db_->db()->DefaultColumnFamily(),
                      slices.size(), slices.data(), values.data(), statuses.data());

  rocksdb::WriteBatch batch;
  absl::btree_map<std::string, uint64_t> increments;
  std::string value;
  int64_t added = 0;
  std::vector<size_t> added_positions;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) continue;  // already stored
    if (!statuses[i].IsNotFound()) {
      return FromRocks(statuses[i], absl::StrCat("reading ", db_->path()));
    }
    added_positions.push_back(positions[i]);
    const Outcome& e = events[positions[i]];
    e.SerializeToString(&value);
    batch.Put(keys[i], value).PermitUncheckedError();
    event_keys::CounterId counter;
    counter.kind = *event_keys::KindOfEvent(e.event());
    counter.forced = e.forced_arm();
    counter.model_version = e.model_version();
    counter.arm = e.arm();
    ++increments[event_keys::Counter(counter)];
    ++added;
  }
  if (added == 0) return 0;
  for (const auto& [key, count] : increments) {
    batch.Merge(key, event_keys::EncodeCount(count)).PermitUncheckedError();
  }
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  if (absl::Status s = FromRocks(db_->db()->Write(write, &batch),
                                 absl::StrCat("appending ", added, " events to ",
                                              db_->path()));
      !s.ok()) {
    return s;
  }
  if (stored != nullptr) {
    for (size_t position : added_positions) (*stored)[position] = true;
  }
  return added;
}

absl::Status EventStore::AddRequests(absl::string_view arm, uint64_t model_version,
                                     bool forced, uint64_t count) {
  if (arm.empty() || arm.size() > kMaxOutcomeFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm: ", arm.size(), " bytes, expected 1 to ",
                     kMaxOutcomeFieldBytes));
  }
  if (count == 0) return absl::OkStatus();
  event_keys::CounterId counter;
  counter.kind = event_keys::CounterKind::kRequests;
  counter.forced = forced;
  counter.model_version = model_version;
  counter.arm = std::string(arm);
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return FromRocks(db_->db()->Merge(write, event_keys::Counter(counter),
                                    event_keys::EncodeCount(count)),
                   absl::StrCat("counting requests in ", db_->path()));
}

absl::Status EventStore::ApplyRetention(absl::Time now) {
  if (options_.retention_days == 0) return absl::OkStatus();
  const int64_t cutoff =
      absl::ToUnixMicros(now - absl::Hours(24) * options_.retention_days);
  if (cutoff <= 0) return absl::OkStatus();
  const std::string begin = event_keys::EventsFrom(0);
  const std::string end = event_keys::EventsFrom(cutoff);
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  if (absl::Status s = FromRocks(
          db_->db()->DeleteRange(write, db_->db()->DefaultColumnFamily(), begin, end),
          absl::StrCat("deleting events before ", cutoff, " us from ", db_->path()));
      !s.ok()) {
    return s;
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  rocksdb::Slice begin_slice(begin);
  rocksdb::Slice end_slice(end);
  return FromRocks(db_->db()->CompactRange(compact, &begin_slice, &end_slice),
                   absl::StrCat("compacting deleted events of ", db_->path()));
}

}  // namespace affinity::storage
