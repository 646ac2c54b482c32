#include "storage/event_db.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "storage/event_keys.h"

namespace affinity::storage::internal {
namespace {

// Adds 8-byte big-endian counts. A malformed operand fails the merge, which
// RocksDB reports as corruption.
class Be64AddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    uint64_t sum = 0;
    if (existing_value != nullptr) {
      std::optional<uint64_t> existing = event_keys::DecodeCount(
          absl::string_view(existing_value->data(), existing_value->size()));
      if (!existing.has_value()) return false;
      sum = *existing;
    }
    std::optional<uint64_t> add =
        event_keys::DecodeCount(absl::string_view(value.data(), value.size()));
    if (!add.has_value()) return false;
    *new_value = event_keys::EncodeCount(sum + *add);
    return true;
  }
  const char* Name() const override { return "affinity.Be64Add"; }
};

bool Supports(rocksdb::CompressionType type) {
  for (rocksdb::CompressionType t : rocksdb::GetSupportedCompressions()) {
    if (t == type) return true;
  }
  return false;
}

rocksdb::Options MakeOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.merge_operator = std::make_shared<Be64AddOperator>();
  options.max_background_jobs = 2;
  options.write_buffer_size = size_t{16} << 20;
  options.max_write_buffer_number = 3;
  options.target_file_size_base = size_t{32} << 20;
  // Events repeat arm names and id prefixes: they compress well.
  options.compression =
      Supports(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  options.max_open_files = -1;  // required by secondary instances
  options.keep_log_file_num = 3;
  options.max_log_file_size = size_t{4} << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(size_t{16} << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  table.format_version = 5;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventDb>> EventDb::OpenPrimary(const std::string& path) {
  auto db = RocksDb::OpenWithOptions(path, RocksDb::Mode::kReadWrite, MakeOptions(),
                                     /*lock_wait_ms=*/0);
  if (!db.ok()) return db.status();
  return std::unique_ptr<EventDb>(new EventDb(*std::move(db)));
}

absl::StatusOr<std::unique_ptr<EventDb>> EventDb::OpenSecondary(const std::string& path) {
  rocksdb::Options options = MakeOptions();
  options.create_if_missing = false;
  auto db = RocksDb::OpenWithOptions(path, RocksDb::Mode::kFollower, options,
                                     /*lock_wait_ms=*/0);
  if (!db.ok()) return db.status();
  return std::unique_ptr<EventDb>(new EventDb(*std::move(db)));
}

}  // namespace affinity::storage::internal
