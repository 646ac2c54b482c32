// The key layout of the outcome event databases: every key of
// DIR/events/<instance> is built and parsed here and nowhere else.
//
// Integers inside keys are big-endian so that keys sort numerically.
//
//   "e/" <at_unix_micros be64> <event u8>
//        <be32 len> <request_id> <be32 len> <user_id>
//        <be32 len> <session_id> <be32 len> <item_id>
//                                          -> binary affinity.v1.Outcome.
//                                             Events sort by time first, so
//                                             one DeleteRange of
//                                             [EventsFrom(0), EventsFrom(t))
//                                             removes every event before t.
//                                             The rest of the key is the
//                                             event's identity: reporting the
//                                             same event again (a retry)
//                                             writes the same key.
//   "n/" <kind u8> <forced u8 (0|1)> <model_version be64> <arm>
//                                          -> be64 count, updated only by
//                                             merges of be64 increments
//                                             (EventStore's counter merge
//                                             operator adds them). kind is
//                                             0 for requests, else the
//                                             EventType number (1
//                                             impressions, 2 clicks, 3
//                                             conversions).
//
// Thread safety: pure functions.
#ifndef AFFINITY_STORAGE_EVENT_KEYS_H_
#define AFFINITY_STORAGE_EVENT_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "affinity/v1/outcomes.pb.h"

namespace affinity::storage::event_keys {

// The event key of `outcome` (its at_unix_micros must be >= 0).
std::string Event(const affinity::v1::Outcome& outcome);
// The first possible event key at or after `at_unix_micros` (negative
// values are taken as 0).
std::string EventsFrom(int64_t at_unix_micros);
// Just past every event key.
std::string EventsEnd();
// The time of an event key; nullopt for any other key.
std::optional<int64_t> ParseEventTime(absl::string_view key);

enum class CounterKind : uint8_t {
  kRequests = 0,
  kImpressions = 1,
  kClicks = 2,
  kConversions = 3,
};

struct CounterId {
  CounterKind kind = CounterKind::kRequests;
  bool forced = false;
  uint64_t model_version = 0;
  std::string arm;
};

std::string Counter(const CounterId& id);
std::string CountersBegin();
std::string CountersEnd();
// nullopt for any key that is not a well-formed counter key.
std::optional<CounterId> ParseCounter(absl::string_view key);

// The counter kind an event type increments; nullopt for
// EVENT_TYPE_UNSPECIFIED and unknown numbers.
std::optional<CounterKind> KindOfEvent(affinity::v1::EventType type);

// Counter values and merge operands: 8 bytes big-endian.
std::string EncodeCount(uint64_t count);
std::optional<uint64_t> DecodeCount(absl::string_view bytes);

}  // namespace affinity::storage::event_keys

#endif  // AFFINITY_STORAGE_EVENT_KEYS_H_
