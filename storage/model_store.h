// The model store: every trained model version, kept in RocksDB under
// DIR/models. This library alone knows the key layout (storage/keys.h).
//
// Contract:
//  - A version is written through a VersionWriter and becomes visible to
//    ListVersions/OpenVersion/LiveVersion only when Publish() returns OK.
//    Publish is a single synced write made after all data is durable.
//  - A crash at any moment leaves every published version readable; data of
//    a version that was never published is invisible and is removed by the
//    next read-write Open.
//  - Versions are numbered 1, 2, 3, ... in creation order and never reused.
//  - Vectors are float32, `dims` long (ModelMetadata.dims), stored
//    little-endian. For explicit models the trainer folds the biases into
//    the vectors so that score = <user, item> for every algorithm.
#ifndef AFFINITY_STORAGE_MODEL_STORE_H_
#define AFFINITY_STORAGE_MODEL_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"

namespace rocksdb {
class DB;
}

namespace affinity::storage {

// What the store keeps of one user in one version.
struct UserRecord {
  int64_t index = 0;              // row of the user in the trained model
  std::vector<float> factors;     // dims floats
  std::vector<uint32_t> seen;     // item indices the user interacted with, ascending
};

// Writes one new version. Not thread-safe. Destroying it before Publish()
// abandons the version (its data is deleted, nothing becomes visible).
class VersionWriter {
 public:
  virtual ~VersionWriter() = default;
  virtual uint64_t version() const = 0;

  // Items must be added with indices 0..items-1 (any order); ids unique.
  virtual absl::Status AddItem(uint32_t index, absl::string_view item_id,
                               absl::Span<const float> factors) = 0;
  // Users must have unique ids; seen holds item indices.
  virtual absl::Status AddUser(uint32_t index, absl::string_view user_id,
                               absl::Span<const float> factors,
                               absl::Span<const uint32_t> seen) = 0;
  // Item indices, most popular first (the server's fallback list).
  virtual absl::Status SetPopularItems(absl::Span<const uint32_t> items) = 0;

  // Verifies completeness (metadata dims/users/items match what was added),
  // makes all data durable, then makes the version visible in one write.
  // metadata.version is set by the store.
  virtual absl::Status Publish(affinity::v1::ModelMetadata metadata) = 0;
};

// Read-only view of one published version. Thread-safe. Keeps the
// underlying store open for as long as it lives.
class ModelVersionReader {
 public:
  virtual ~ModelVersionReader() = default;
  virtual const affinity::v1::ModelMetadata& metadata() const = 0;
  // Item ids by index (size = metadata().items()).
  virtual const std::vector<std::string>& item_ids() const = 0;
  // Fills out (items x dims, row-major) with every item's vector.
  virtual absl::Status ReadItemFactors(absl::Span<float> out) const = 0;
  // NotFound when the user is not in this version.
  virtual absl::StatusOr<UserRecord> GetUser(absl::string_view user_id) const = 0;
  // NotFound when the item is not in this version.
  virtual absl::StatusOr<uint32_t> ItemIndex(absl::string_view item_id) const = 0;
  virtual const std::vector<uint32_t>& popular_items() const = 0;
  // Calls fn for every user in ascending id order; stops at the first error.
  virtual absl::Status ForEachUser(
      const std::function<absl::Status(absl::string_view user_id,
                                       const UserRecord&)>& fn) const = 0;
};

// Tuning of the store's RocksDB instance.
struct ModelStoreOptions {
  // LRU cache of data, index and filter blocks, shared by all readers.
  size_t block_cache_bytes = size_t{256} << 20;
  // Bloom filter bits per key (point lookups of user records).
  int bloom_bits_per_key = 10;
  // Memtable size; a version is written in memtables and flushed on Publish.
  size_t write_buffer_bytes = size_t{64} << 20;
  // A VersionWriter commits its rows in write batches of about this size.
  size_t write_batch_bytes = size_t{4} << 20;
  // RocksDB flush and compaction threads.
  int background_jobs = 4;
};

struct VersionInfo {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
};

// Thread-safe. Readers and writers it hands out keep the underlying
// database open after the store itself is destroyed.
class ModelStore {
 public:
  enum class Mode {
    // One process at a time (the trainer, admin tools). Creates the store.
    kReadWrite,
    // Any number of processes (servers), alongside one read-write process.
    // Sees versions published after Open once Refresh() is called.
    kFollower,
  };

  // Opens DIR/models (creating DIR and the store in kReadWrite mode).
  // kReadWrite also deletes the data of versions a crashed writer left
  // unpublished. kFollower opens a RocksDB secondary instance (a private
  // directory under $TMPDIR, removed on close) and works whether or not a
  // read-write process is running; a missing store is created empty.
  static absl::StatusOr<std::unique_ptr<ModelStore>> Open(const std::string& dir,
                                                          Mode mode);
  static absl::StatusOr<std::unique_ptr<ModelStore>> Open(
      const std::string& dir, Mode mode, const ModelStoreOptions& options);
  virtual ~ModelStore() = default;

  // kFollower: catch up with versions published since Open or the last
  // Refresh. kReadWrite: no-op.
  virtual absl::Status Refresh() = 0;

  // kReadWrite only. Reserves the next version number.
  virtual absl::StatusOr<std::unique_ptr<VersionWriter>> CreateVersion() = 0;

  // Published versions, ascending.
  virtual absl::StatusOr<std::vector<VersionInfo>> ListVersions() const = 0;

  // The version servers should load: the one pinned by SetLiveVersion if
  // any, else the newest published. NotFound when nothing is published.
  virtual absl::StatusOr<uint64_t> LiveVersion() const = 0;
  // kReadWrite only. Pins a published version as live (rollback), or with
  // std::nullopt follows the newest again.
  virtual absl::Status SetLiveVersion(std::optional<uint64_t> version) = 0;

  // NotFound for an unknown or unpublished version.
  virtual absl::StatusOr<std::unique_ptr<ModelVersionReader>> OpenVersion(
      uint64_t version) const = 0;

  // kReadWrite only. Makes the version invisible first, then removes its
  // data. FailedPrecondition when it is the pinned live version.
  virtual absl::Status DeleteVersion(uint64_t version) = 0;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_MODEL_STORE_H_
