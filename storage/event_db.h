// Internal to //storage:event_store. Opens one outcome event database
// (DIR/events/<instance>) with the options every opener must share: the
// counter merge operator (adds be64 values), compression and the settings
// secondary instances need.
#ifndef AFFINITY_STORAGE_EVENT_DB_H_
#define AFFINITY_STORAGE_EVENT_DB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace affinity::storage::internal {

// An open event database; closes it (and removes a secondary instance's
// private directory) on destruction.
class EventDb {
 public:
  // Read-write; creates `path` and its parents when missing. Fails while
  // another handle (in this or another process) has it open read-write.
  static absl::StatusOr<std::unique_ptr<EventDb>> OpenPrimary(const std::string& path);
  // A secondary instance of the existing database at `path`, with a fresh
  // private directory under $TMPDIR (or /tmp).
  static absl::StatusOr<std::unique_ptr<EventDb>> OpenSecondary(const std::string& path);
  ~EventDb();
  EventDb(const EventDb&) = delete;
  EventDb& operator=(const EventDb&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  const std::string& path() const { return path_; }
  bool secondary() const { return !secondary_dir_.empty(); }

 private:
  explicit EventDb(std::string path) : path_(std::move(path)) {}

  std::string path_;
  std::string secondary_dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace affinity::storage::internal

#endif  // AFFINITY_STORAGE_EVENT_DB_H_
