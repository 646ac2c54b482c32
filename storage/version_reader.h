// The model store's ModelVersionReader: reads one published version (through
// a RocksDB snapshot in read-write mode), keeping item ids and popular items
// in memory. Open checks the metadata against the stored item records (count,
// contiguous indices, dims) and sizes memory by the records, never by the
// metadata alone: a mismatch is DataLoss naming the version, a version too
// large for memory ResourceExhausted; nothing throws. Internal to
// //storage:model_store.
#ifndef AFFINITY_STORAGE_VERSION_READER_H_
#define AFFINITY_STORAGE_VERSION_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "rocksdb/db.h"
#include "storage/model_store.h"
#include "storage/rocks_db.h"

namespace affinity::storage {

class RocksVersionReader : public ModelVersionReader {
 public:
  // NotFound when `version` is not published; DataLoss when its records
  // disagree with its metadata.
  static absl::StatusOr<std::unique_ptr<ModelVersionReader>> Open(
      std::shared_ptr<RocksDb> db, uint64_t version);
  ~RocksVersionReader() override;

  const affinity::v1::ModelMetadata& metadata() const override { return metadata_; }
  const std::vector<std::string>& item_ids() const override { return item_ids_; }
  absl::Status ReadItemFactors(absl::Span<float> out) const override;
  absl::StatusOr<UserRecord> GetUser(absl::string_view user_id) const override;
  absl::StatusOr<uint32_t> ItemIndex(absl::string_view item_id) const override;
  const std::vector<uint32_t>& popular_items() const override { return popular_; }
  absl::Status ForEachUser(
      const std::function<absl::Status(absl::string_view user_id,
                                       const UserRecord&)>& fn) const override;
  absl::StatusOr<std::vector<affinity::v1::IndexHeader>> ListIndexes() const override;
  absl::StatusOr<std::unique_ptr<IndexReader>> OpenIndex(
      absl::string_view kind, absl::string_view params) const override;

 private:
  RocksVersionReader(std::shared_ptr<RocksDb> db, uint64_t version);
  static absl::StatusOr<std::unique_ptr<ModelVersionReader>> OpenOrThrow(
      std::shared_ptr<RocksDb> db, uint64_t version);
  rocksdb::ReadOptions ReadAt() const;
  // Calls fn(key, value) for every key starting with prefix.
  absl::Status Scan(const std::string& prefix,
                    const std::function<absl::Status(absl::string_view key,
                                                     absl::string_view value)>& fn)
      const;
  absl::Status LoadItems();

  std::shared_ptr<RocksDb> db_;
  const uint64_t version_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  affinity::v1::ModelMetadata metadata_;
  std::vector<std::string> item_ids_;
  absl::flat_hash_map<std::string, uint32_t> item_index_;
  std::vector<uint32_t> popular_;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_VERSION_READER_H_
