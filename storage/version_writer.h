// The model store's VersionWriter: buffers rows into write batches without
// the WAL, and on Publish flushes memtables before writing the synced
// published marker. Internal to //storage:model_store.
#ifndef AFFINITY_STORAGE_VERSION_WRITER_H_
#define AFFINITY_STORAGE_VERSION_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "rocksdb/write_batch.h"
#include "storage/model_store.h"
#include "storage/rocks_db.h"

namespace affinity::storage {

class RocksVersionWriter : public VersionWriter {
 public:
  RocksVersionWriter(std::shared_ptr<RocksDb> db, uint64_t version,
                     size_t batch_bytes);
  // Abandons the version unless it was published.
  ~RocksVersionWriter() override;

  uint64_t version() const override { return version_; }
  absl::Status AddItem(uint32_t index, absl::string_view item_id,
                       absl::Span<const float> factors) override;
  absl::Status AddUser(uint32_t index, absl::string_view user_id,
                       absl::Span<const float> factors,
                       absl::Span<const uint32_t> seen) override;
  absl::Status SetPopularItems(absl::Span<const uint32_t> items) override;
  absl::StatusOr<std::unique_ptr<IndexWriter>> CreateIndexWriter(
      affinity::v1::IndexHeader header) override;
  absl::Status Publish(affinity::v1::ModelMetadata metadata) override;

 private:
  absl::Status CheckWritable() const;
  absl::Status CheckDims(absl::string_view what, absl::Span<const float> factors);
  // Marks `index` used in `used`; false when it already was.
  static bool MarkIndex(uint32_t index, std::vector<bool>* used);
  absl::Status MaybeCommit();
  absl::Status Commit();
  absl::Status CheckComplete(const affinity::v1::ModelMetadata& metadata) const;

  std::shared_ptr<RocksDb> db_;
  const uint64_t version_;
  const size_t batch_bytes_;
  rocksdb::WriteBatch batch_;
  std::string key_;
  std::string value_;

  int64_t dims_ = -1;
  std::vector<bool> item_index_used_;
  std::vector<bool> user_index_used_;
  uint64_t items_ = 0;
  uint64_t users_ = 0;
  int64_t max_seen_ = -1;
  absl::flat_hash_set<std::string> item_ids_;
  absl::flat_hash_set<std::string> user_ids_;
  std::vector<uint32_t> popular_;
  bool published_ = false;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_VERSION_WRITER_H_
