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
#include "storage/rocks_db.h"

namespace affinity::storage::internal {

// An open event database; closes it (and removes a secondary instance's
// private directory) on destruction (storage/rocks_db.h).
class EventDb {
 public:
  // Read-write; creates `path` and its parents when missing. Fails while
  // another handle (in this or another process) has it open read-write.
  static absl::StatusOr<std::unique_ptr<EventDb>> OpenPrimary(const std::string& path);
  // A secondary instance of the existing database at `path`, with a fresh
  // private directory under $TMPDIR (or /tmp).
  static absl::StatusOr<std::unique_ptr<EventDb>> OpenSecondary(const std::string& path);
  EventDb(const EventDb&) = delete;
  EventDb& operator=(const EventDb&) = delete;

  rocksdb::DB* db() const { return db_->db(); }
  const std::string& path() const { return db_->path(); }
  bool secondary() const { return db_->mode() == RocksDb::Mode::kFollower; }
  // Catches a secondary instance up with its primary.
  absl::Status Refresh() { return db_->Refresh(); }

 private:
  explicit EventDb(std::shared_ptr<RocksDb> db) : db_(std::move(db)) {}

  std::shared_ptr<RocksDb> db_;
};

}  // namespace affinity::storage::internal

#endif  // AFFINITY_STORAGE_EVENT_DB_H_
