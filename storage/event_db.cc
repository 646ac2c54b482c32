#include "storage/event_db.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "storage/event_keys.h"
#include "storage/rocks_status.h"

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

absl::StatusOr<std::string> MakePrivateDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat((tmp && *tmp) ? tmp : "/tmp",
                                     "/affinity-events-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a secondary directory like ", pattern));
  }
  return std::string(buffer.data());
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventDb>> EventDb::OpenPrimary(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create directory ", path, ": ", ec.message()));
  }
  std::unique_ptr<EventDb> handle(new EventDb(path));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(MakeOptions(), path, &raw);
  if (!status.ok()) return FromRocks(status, absl::StrCat("opening ", path));
  handle->db_.reset(raw);
  return handle;
}

absl::StatusOr<std::unique_ptr<EventDb>> EventDb::OpenSecondary(const std::string& path) {
  std::unique_ptr<EventDb> handle(new EventDb(path));
  absl::StatusOr<std::string> dir = MakePrivateDir();
  if (!dir.ok()) return dir.status();
  handle->secondary_dir_ = *dir;
  rocksdb::Options options = MakeOptions();
  options.create_if_missing = false;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status =
      rocksdb::DB::OpenAsSecondary(options, path, handle->secondary_dir_, &raw);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("opening ", path, " as a secondary instance"));
  }
  handle->db_.reset(raw);
  return handle;
}

EventDb::~EventDb() {
  if (db_ != nullptr) {
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

}  // namespace affinity::storage::internal
