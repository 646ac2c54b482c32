// The outcome events one server instance records: what users did with the
// answers (affinity.v1.Outcome) and per-arm counters, in a RocksDB database
// of its own at DIR/events/<instance> (storage/event_keys.h has the keys).
// Several servers sharing a store each use their own instance name;
// storage/event_reader.h reads all of them together.
//
// Contract:
//  - One EventStore per database: Open fails while the database is open
//    read-write elsewhere (this or another process).
//  - Append writes its events and the counter increments in one write batch
//    with the write-ahead log on, so after a crash either all or none of a
//    call is present. With options.sync (the default) the log is fsynced
//    before Append returns: an acknowledged call survives a machine crash.
//  - An event's identity is (at_unix_micros, event, request_id, user_id,
//    session_id, item_id). Appending an event whose identity is already
//    stored (a retried report) changes nothing and is not counted again.
//  - Counters (requests, impressions, clicks, conversions per arm, model
//    version and forced flag) are kept forever; ApplyRetention removes old
//    events only.
//  - Every method is thread-safe. Errors are absl::Status; nothing throws.
#ifndef AFFINITY_STORAGE_EVENT_STORE_H_
#define AFFINITY_STORAGE_EVENT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "affinity/v1/outcomes.pb.h"

namespace affinity::storage {

namespace internal {
class EventDb;
}  // namespace internal

struct EventStoreOptions {
  // ApplyRetention deletes events older than this many days; 0 keeps them.
  int retention_days = 90;
  // fsync the write-ahead log in every Append and AddRequests call.
  bool sync = true;
};

// Longest request_id, user_id, session_id, item_id or arm accepted.
inline constexpr size_t kMaxOutcomeFieldBytes = 1024;

class EventStore {
 public:
  // Opens (creating when missing) DIR/events/<instance> read-write.
  // InvalidArgument when `instance` is empty, longer than 128 bytes, starts
  // with '.' or has a byte other than letters, digits, '.', '_' and '-';
  // or when options.retention_days < 0.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(
      const std::string& dir, const std::string& instance,
      const EventStoreOptions& options = EventStoreOptions());
  ~EventStore();

  // Stores the events not stored yet and counts them. InvalidArgument
  // naming the first bad event and field (as "events[3].arm: ...") and
  // nothing written when an event has no arm, no item_id, an event type
  // other than IMPRESSION, CLICK or CONVERSION, an at_unix_micros <= 0, or
  // an id longer than kMaxOutcomeFieldBytes. user_id may be empty.
  // Returns how many events were new; with `stored`, also which ones:
  // (*stored)[i] is true when events[i] was stored by this call (false for
  // an event stored before, or repeated earlier in the same call, and for
  // all of them when the call fails).
  absl::StatusOr<int64_t> Append(absl::Span<const affinity::v1::Outcome> events,
                                 std::vector<bool>* stored = nullptr);

  // Adds `count` to the request counter of (arm, model_version, forced).
  // InvalidArgument when arm is empty or too long.
  absl::Status AddRequests(absl::string_view arm, uint64_t model_version,
                           bool forced, uint64_t count);

  // Deletes every event with at_unix_micros < now - retention_days (one
  // range deletion, then a compaction of that range to give the space
  // back). No-op when retention_days is 0. Counters are kept.
  absl::Status ApplyRetention(absl::Time now);

  // DIR/events/<instance>.
  const std::string& path() const;

 private:
  EventStore(std::unique_ptr<internal::EventDb> db, EventStoreOptions options);

  std::unique_ptr<internal::EventDb> db_;
  const EventStoreOptions options_;
  // Serializes Append's read (which events exist) and write.
  absl::Mutex append_mutex_;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_EVENT_STORE_H_
