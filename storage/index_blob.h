// The model store's index blobs (keys.h, "m/" <version> "/x/..."): the
// IndexWriter and IndexReader behind ModelStore, VersionWriter and
// ModelVersionReader, and the helpers that list a version's indexes and
// remove the chunks of one whose writer never committed. Chunks are written
// without the WAL; Commit flushes them before the synced header write, as a
// version's Publish does. Internal to //storage:model_store; nothing throws.
#ifndef AFFINITY_STORAGE_INDEX_BLOB_H_
#define AFFINITY_STORAGE_INDEX_BLOB_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "rocksdb/db.h"
#include "storage/model_store.h"
#include "storage/rocks_db.h"

namespace affinity::storage {

// InvalidArgument unless header's kind and params are valid index names.
absl::Status CheckIndexName(const affinity::v1::IndexHeader& header);

// A writer of `version`'s index header.kind/header.params in chunks of
// chunk_bytes. It deletes that index's chunks first (a replaced index or an
// earlier attempt); the caller removes a committed header before.
std::unique_ptr<IndexWriter> NewIndexWriter(std::shared_ptr<RocksDb> db, uint64_t version,
                                            affinity::v1::IndexHeader header,
                                            size_t chunk_bytes);

// Every committed index header of `version` (read at `options`).
absl::StatusOr<std::vector<affinity::v1::IndexHeader>> ListIndexHeaders(
    const RocksDb& db, const rocksdb::ReadOptions& options, uint64_t version);

// A reader of one committed index; NotFound when it has no header.
absl::StatusOr<std::unique_ptr<IndexReader>> OpenIndexReader(std::shared_ptr<RocksDb> db,
                                                             uint64_t version,
                                                             absl::string_view kind,
                                                             absl::string_view params);

// Deletes the chunks of every index of `version` that has no header (a
// writer that crashed or was abandoned). Read-write databases only.
absl::Status RemoveIncompleteIndexes(RocksDb& db, uint64_t version);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_INDEX_BLOB_H_
