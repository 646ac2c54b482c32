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
//  - A version may carry index blobs (e.g. an HNSW graph of its items),
//    each under a kind and parameters, with an IndexHeader that names the
//    item vectors it was built from. An index is visible only once its
//    header is written, after all of its chunks are durable; it is deleted
//    with its version. One written with the version (VersionWriter::
//    CreateIndexWriter) becomes visible with it; one added to a published
//    version (ModelStore::CreateIndexWriter) when its header is written, and
//    the chunks of one whose writer crashed are removed by the next
//    read-write Open.
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
#include "affinity/v1/rollout.pb.h"
#include "storage/rollout_resolver.h"

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

// Writes one index blob of a version in chunks. Not thread-safe. Destroying
// it before Commit() deletes the chunks it wrote; nothing becomes visible.
class IndexWriter {
 public:
  virtual ~IndexWriter() = default;
  // Appends bytes to the blob.
  virtual absl::Status Append(absl::string_view bytes) = 0;
  // Writes the last chunk, makes every chunk durable, then writes the
  // header (blob_bytes, chunks and blob_sha256 filled in) in one synced
  // write. Returns the stored header.
  virtual absl::StatusOr<affinity::v1::IndexHeader> Commit() = 0;
};

// Reads one stored index blob from its first byte on, through a consistent
// view of the store taken when it was opened. Not thread-safe; keeps the
// store open for as long as it lives.
class IndexReader {
 public:
  virtual ~IndexReader() = default;
  virtual const affinity::v1::IndexHeader& header() const = 0;
  // Fills `out` with the blob's next out.size() bytes. DataLoss when the
  // blob ends first or a chunk is missing.
  virtual absl::Status Read(absl::Span<char> out) = 0;
  // OK when every byte of the blob was read and their SHA-256 is the
  // header's; DataLoss saying what differs otherwise.
  virtual absl::Status Finish() = 0;
};

// SHA-256 of item vectors as the store keeps them (float32 little-endian,
// row after row): what IndexHeader.vectors_sha256 holds, so that a reader
// can tell whether an index was built from the vectors it has.
std::string ItemVectorsSha256(absl::Span<const float> vectors);

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

  // An index stored with this version, visible with it once committed and
  // published (commit it before Publish). `header` gives its kind, params
  // (see keys::IsValidIndexName; InvalidArgument otherwise), format, items,
  // dims and vectors_sha256. The writer must not outlive this one.
  virtual absl::StatusOr<std::unique_ptr<IndexWriter>> CreateIndexWriter(
      affinity::v1::IndexHeader header) = 0;

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
  // The headers of the version's stored indexes, by kind and params.
  virtual absl::StatusOr<std::vector<affinity::v1::IndexHeader>> ListIndexes() const = 0;
  // The stored index of this kind and params; NotFound when there is none,
  // DataLoss when its header does not parse.
  virtual absl::StatusOr<std::unique_ptr<IndexReader>> OpenIndex(
      absl::string_view kind, absl::string_view params) const = 0;
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
  // kReadWrite: how long Open waits while another process has the store
  // open for writing (a trainer publishing, another admin command) before
  // it gives up with Unavailable.
  int lock_wait_ms = 30000;
  // When DIR/models holds no store: true creates an empty one (what the
  // trainer's runs and imports need, and servers, which wait for the first
  // version); false fails with NotFound "no model store at DIR" and creates
  // nothing (the admin commands: versions, recommend, rollback, unpin,
  // delete).
  bool create_if_missing = true;
};

// The error for a directory that holds no model store: NotFound "no model
// store at DIR (DETAIL)", marked so that IsNoModelStore recognizes it. Tools
// exit 1 for it (the store may be unmounted or not yet created), not 2 (a
// bad argument).
absl::Status NoModelStoreError(absl::string_view dir, absl::string_view detail);
bool IsNoModelStore(const absl::Status& status);

// Users, and items, one version can hold: their indices are stored as
// non-negative int32 (VersionWriter refuses larger ones).
inline constexpr int64_t kMaxIdsPerVersion = int64_t{1} << 31;

// Who changes a rollout and why; recorded in its history.
struct RolloutChangeInfo {
  std::string by;      // e.g. "alice@host via affinity rollout"
  std::string action;  // e.g. "set", "promote", "rollback"
  std::string reason;  // free text; automatic decisions give their figures
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

  // Opens DIR/models (creating DIR and the store, in both modes, unless
  // options.create_if_missing is false: then NotFound "no model store at
  // DIR (DIR/models does not exist)").
  // kReadWrite also deletes the data of versions a crashed writer left
  // unpublished. kFollower opens a RocksDB secondary instance (a private
  // directory under $TMPDIR, removed on close) and works whether or not a
  // read-write process is running.
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

  // The live version: the rollout's control (storage/rollout_resolver.h),
  // i.e. the pinned version if any, else the newest eligible one. NotFound
  // when no eligible version is published.
  virtual absl::StatusOr<uint64_t> LiveVersion() const = 0;
  // kReadWrite only. Pins a published, eligible version as control and
  // sends it all traffic (the other arms are removed), or with std::nullopt
  // lets control follow the newest eligible version again. Recorded in the
  // rollout history as "pin" / "unpin" by `by`. NotFound for a version
  // that is not published; FailedPrecondition names why a version may not
  // serve.
  virtual absl::Status SetLiveVersion(std::optional<uint64_t> version,
                                      const std::string& by = "affinity-train") = 0;

  // The stored rollout state; a default one (revision 0, control following
  // the newest eligible version) when none was ever written.
  virtual absl::StatusOr<affinity::v1::RolloutState> GetRollout() const = 0;
  // GetRollout applied to the published versions.
  virtual absl::StatusOr<affinity::v1::ResolvedRollout> ResolvedRollout() const = 0;
  // kReadWrite only. Stores `next` as revision expected_revision + 1 and a
  // history entry (before/after, who, when, why) in one synced write.
  // Aborted when the stored revision is not expected_revision (someone
  // else changed it first: read again and retry); InvalidArgument when the
  // state is malformed; NotFound when an arm, the shadow or a pinned
  // control names a version that is not published; FailedPrecondition when
  // an arm or a pinned control names a version that is not eligible.
  // Returns the stored state.
  virtual absl::StatusOr<affinity::v1::RolloutState> UpdateRollout(
      uint64_t expected_revision, affinity::v1::RolloutState next,
      const RolloutChangeInfo& change) = 0;
  // The latest `limit` changes, newest first.
  virtual absl::StatusOr<std::vector<affinity::v1::RolloutChange>> RolloutHistory(
      size_t limit) const = 0;

  // NotFound for an unknown or unpublished version; DataLoss when its
  // metadata disagrees with its stored items (count, dims); memory is sized
  // by the stored items, and a version too large for it is
  // ResourceExhausted.
  virtual absl::StatusOr<std::unique_ptr<ModelVersionReader>> OpenVersion(
      uint64_t version) const = 0;

  // kReadWrite only. Adds an index to a published version, replacing a
  // stored one of the same kind and params (whose header is removed, synced,
  // before anything is written). NotFound for a version that is not
  // published; InvalidArgument for a kind or params that are not valid
  // names; FailedPrecondition when header.items or header.dims differ from
  // the version's metadata.
  virtual absl::StatusOr<std::unique_ptr<IndexWriter>> CreateIndexWriter(
      uint64_t version, affinity::v1::IndexHeader header) = 0;

  // kReadWrite only. Makes the version invisible first, then removes its
  // data. FailedPrecondition when the rollout refers to it (live, pinned,
  // an arm, the shadow or the control to roll back to).
  virtual absl::Status DeleteVersion(uint64_t version) = 0;
};

// Whether Open(dir, kReadWrite) will be able to create or write DIR/models,
// checked without creating anything: DIR/models is a directory in which a
// file can be created, or the nearest existing ancestor is. Meant for jobs
// that publish at the end, to fail before hours of work. InvalidArgument
// "cannot write a model store at DIR: <why>" otherwise.
absl::Status CheckStoreWritable(const std::string& dir);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_MODEL_STORE_H_
