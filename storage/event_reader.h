// Reads the outcome events of every server instance of a store together:
// each DIR/events/<instance> database (storage/event_store.h) is opened as a
// RocksDB secondary instance, so reading is allowed while the servers write.
//
// Contract:
//  - A reader sees what the writers had written when it opened or last
//    called Refresh(); Refresh() also opens instances created since.
//  - Counts() sums the counters of all instances; ForEachEvent() merges
//    their events into one time-ordered stream.
//  - Not thread-safe: one thread at a time per reader. Errors are
//    absl::Status (a stored value that does not parse is DataLoss, naming
//    the instance); nothing throws.
#ifndef AFFINITY_STORAGE_EVENT_READER_H_
#define AFFINITY_STORAGE_EVENT_READER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "affinity/v1/outcomes.pb.h"

namespace affinity::storage {

namespace internal {
class EventDb;
}  // namespace internal

struct OutcomeCounts {
  int64_t requests = 0;
  int64_t impressions = 0;
  int64_t clicks = 0;
  int64_t conversions = 0;
};

// The counters of one (arm, model version, forced) group.
struct ArmOutcomeCounts {
  std::string arm;
  uint64_t model_version = 0;
  bool forced = false;
  OutcomeCounts counts;
};

class EventReader {
 public:
  // Opens every instance under DIR/events. NotFound when DIR/events does
  // not exist (no server has recorded outcomes in DIR); a DIR/events without
  // instances gives a reader that reads nothing.
  static absl::StatusOr<std::unique_ptr<EventReader>> Open(const std::string& dir);
  ~EventReader();

  // Catches up with the writers and opens instances created since.
  absl::Status Refresh();

  // Names of the instances read, sorted.
  std::vector<std::string> instances() const;

  // Summed over instances, one entry per (arm, model_version, forced),
  // sorted by arm, then model_version, then forced (false first).
  absl::StatusOr<std::vector<ArmOutcomeCounts>> Counts() const;

  // Calls fn for every event with since_unix_micros <= at_unix_micros <
  // until_unix_micros, in time order across instances (ties in the order of
  // the event keys, then of the instance names). Stops at the first error
  // fn returns and returns it.
  absl::Status ForEachEvent(
      int64_t since_unix_micros, int64_t until_unix_micros,
      const std::function<absl::Status(const affinity::v1::Outcome&)>& fn) const;
  absl::Status ForEachEvent(
      int64_t since_unix_micros,
      const std::function<absl::Status(const affinity::v1::Outcome&)>& fn) const {
    return ForEachEvent(since_unix_micros, std::numeric_limits<int64_t>::max(), fn);
  }

 private:
  struct Instance {
    std::string name;
    std::unique_ptr<internal::EventDb> db;
  };
  explicit EventReader(std::string events_dir);
  // Opens the instances of events_dir_ not open yet.
  absl::Status OpenNewInstances();

  std::string events_dir_;
  std::vector<Instance> instances_;  // sorted by name
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_EVENT_READER_H_
