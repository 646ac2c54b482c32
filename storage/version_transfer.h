// Ships one published model version from one store to another (e.g. to
// serving replicas on other machines) as a RocksDB backup: the version's
// records are copied into a fresh temporary database, which RocksDB's
// BackupEngine writes into the export directory with a checksum per file;
// the temporary database is removed.
//
// Contract:
//  - ExportVersion reads the source store as a follower (a trainer may hold
//    it read-write meanwhile) and copies exactly the version's published
//    marker and data records (storage/keys.h), nothing else (no "live" pin,
//    no counter). The export directory must be new or empty; on failure it
//    is left as it was found.
//  - ImportVersion verifies every file of the export against its checksum
//    (BackupEngine::VerifyBackup with checksums), restores it into a
//    temporary directory beside the target store, checks that it holds one
//    complete version and nothing else, then copies it into the target
//    store under the same version number: next_version is raised past it
//    first, data follows in write batches, flushed, and the marker last in
//    one synced write, so the version appears whole or not at all (a crash
//    leaves invisible data that the next read-write open removes).
//  - The target already holding the version with an identical marker is a
//    no-op (already_present); with a different marker FailedPrecondition
//    naming the version. Whether the imported version becomes live follows
//    the store's usual rule (the newest published, unless one is pinned).
//  - Errors: NotFound for a missing store, version or export directory;
//    FailedPrecondition for a non-empty export directory or a conflicting
//    version; DataLoss for an export that fails its checksums, is truncated
//    or does not hold exactly one complete version (nothing is written
//    then); the store's errors otherwise (e.g. the target store held
//    read-write by another process).
//  - Both functions open the stores themselves (the target read-write, so
//    no other process may hold it read-write); they are not meant to run
//    concurrently on the same directories.
#ifndef AFFINITY_STORAGE_VERSION_TRANSFER_H_
#define AFFINITY_STORAGE_VERSION_TRANSFER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"

namespace affinity::storage {

struct VersionTransfer {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
  uint64_t records = 0;  // keys copied, the marker included
  uint64_t bytes = 0;    // their key and value bytes
  // ImportVersion only: the target already held this exact version and
  // nothing was written.
  bool already_present = false;
};

// Writes version `version` of the store at `db_dir` (the directory given to
// ModelStore::Open) into the directory `out_dir`.
absl::StatusOr<VersionTransfer> ExportVersion(const std::string& db_dir, uint64_t version,
                                              const std::string& out_dir);

struct ImportOptions {
  // Paces the import's writes (the export's restore into a scratch
  // directory, and the records written into the store) to about this many
  // bytes per second; 0: as fast as they go. The final flush of the
  // records is not paced. On a serving replica this keeps the import's I/O
  // from lifting the servers' latency (its writeback runs in kernel threads
  // at normal priority, whatever the importing process's nice value).
  uint64_t max_write_bytes_per_s = 0;
};

// Adds the version exported into `from_dir` to the store at `db_dir`
// (created if missing), keeping its version number.
absl::StatusOr<VersionTransfer> ImportVersion(const std::string& from_dir,
                                              const std::string& db_dir,
                                              const ImportOptions& options = {});

// Tests only: called by ImportVersion on its own thread right after it has
// cleared an interrupted import's leftovers, before the data is written
// (a test catches a follower up there). Not thread-safe; empty: none.
void SetImportClearedHookForTesting(std::function<void()> hook);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_VERSION_TRANSFER_H_
