// Opening a RocksDB directory tuned for this project, in read-write or
// follower (secondary instance) mode, behind a shared handle that outlives
// the stores and readers using it.
#ifndef AFFINITY_STORAGE_ROCKS_DB_H_
#define AFFINITY_STORAGE_ROCKS_DB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"

namespace affinity::storage {

struct RocksTuning {
  size_t block_cache_bytes = size_t{256} << 20;
  int bloom_bits_per_key = 10;
  size_t write_buffer_bytes = size_t{64} << 20;
  int background_jobs = 4;
  // kReadWrite: while another process holds the database's lock, Open
  // retries for this long, then fails with Unavailable.
  int lock_wait_ms = 0;
  // false: a missing database is NotFound in both modes, and nothing is
  // created (readers that must not leave an empty store behind).
  bool create_if_missing = true;
};

// The identity of the database in directory `path` (its IDENTITY file,
// without surrounding whitespace); nullopt when there is none.
std::optional<std::string> ReadDbIdentity(const std::string& path);

// Flushes `db`'s memtables to files and waits for it (through a write
// stall if need be): what was written without the write-ahead log is
// durable when it returns. Errors read "flushing WHERE: ...".
absl::Status FlushMemtables(rocksdb::DB* db, absl::string_view where);

// An open database. Closes it (and, for a follower, removes its private
// secondary directory) when the last reference goes away.
//
// A follower's private directory, $TMPDIR/affinity-follower-XXXXXX (or
// under /tmp), holds an `owner` file with the owner's pid, locked (flock)
// for as long as the follower is open. A process that ends without closing
// (a crash, SIGKILL) leaves its directory behind with the lock released;
// every follower Open removes such directories first, so they do not pile
// up. Directories without an owner file are never touched.
//
// The directory's inode and the database's identity (RocksDB's IDENTITY
// file, unique per database) are read at open. A directory deleted, or
// deleted and created again (even from a copy of the same database), under
// a running process differs in one or the other: Refresh then stops
// following it for good (catching up with another database's files would
// abort the process) and what was read before stays readable. Files
// swapped inside the same directory with the same IDENTITY (a copy restored
// over the contents) are not detected.
class RocksDb {
 public:
  enum class Mode { kReadWrite, kFollower };

  // kReadWrite creates `path` (and parents) when missing. kFollower opens a
  // secondary instance of `path` with a fresh private directory under
  // $TMPDIR (or /tmp), after removing the private directories of ended
  // owners; a missing database is created first, so followers may start
  // before any writer. With tuning.create_if_missing false, neither mode
  // creates anything: NotFound when there is no database. kReadWrite on a
  // database it cannot write (a read-only file system, missing permissions)
  // is FailedPrecondition naming the path and the cause.
  static absl::StatusOr<std::shared_ptr<RocksDb>> Open(const std::string& path,
                                                       Mode mode,
                                                       const RocksTuning& tuning);
  // The same with the caller's own RocksDB options (e.g. a merge operator);
  // they must set max_open_files = -1, which secondary instances need.
  // Both modes require the database to exist (NotFound otherwise) when
  // options.create_if_missing is false.
  static absl::StatusOr<std::shared_ptr<RocksDb>> OpenWithOptions(const std::string& path,
                                                                  Mode mode,
                                                                  rocksdb::Options options,
                                                                  int lock_wait_ms);
  ~RocksDb();
  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  Mode mode() const { return mode_; }
  const std::string& path() const { return path_; }
  // Serializes read-modify-write sequences of one process.
  absl::Mutex& mutex() { return mutex_; }

  // kFollower: catches up with the primary, unless the directory no longer
  // holds this database (CheckSameDatabase fails); from then on it returns
  // that same error at every call and never catches up again. kReadWrite:
  // no-op.
  absl::Status Refresh();

  // The identity read at open (the IDENTITY file RocksDB writes when it
  // creates a database).
  const std::string& identity() const { return identity_; }
  // FailedPrecondition "PATH: the database was deleted ..." when the
  // directory is gone or is another directory (inode), or its IDENTITY file
  // is gone or names another database.
  absl::Status CheckSameDatabase() const;

 private:
  struct PrivateDir {
    std::string path;
    int lock_fd = -1;
  };
  static absl::StatusOr<PrivateDir> MakePrivateDir();

  RocksDb(std::string path, Mode mode) : path_(std::move(path)), mode_(mode) {}

  std::string path_;
  Mode mode_;
  std::string secondary_dir_;
  int secondary_lock_fd_ = -1;
  std::string identity_;
  uint64_t dir_device_ = 0;
  uint64_t dir_inode_ = 0;
  absl::Mutex refresh_mutex_;
  // Not OK once the follower stopped following; guarded by refresh_mutex_.
  absl::Status stopped_;
  std::unique_ptr<rocksdb::DB> db_;
  absl::Mutex mutex_;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_ROCKS_DB_H_
