#include "storage/model_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"
#include "storage/version_reader.h"
#include "storage/version_writer.h"

namespace affinity::storage {
namespace {

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

class RocksModelStore : public ModelStore {
 public:
  RocksModelStore(std::shared_ptr<RocksDb> db, Mode mode, size_t batch_bytes)
      : db_(std::move(db)), mode_(mode), batch_bytes_(batch_bytes) {}

  // Deletes the data of every version without a published marker.
  absl::Status RemoveUnpublished() {
    rocksdb::DB* rdb = db_->db();
    const std::string prefix = keys::VersionDataPrefix();
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(options));
    for (it->Seek(prefix); it->Valid();) {
      absl::string_view key(it->key().data(), it->key().size());
      std::optional<uint64_t> version = keys::ParseVersionData(key);
      if (!version.has_value()) {
        return absl::DataLossError(
            absl::StrCat("malformed model data key in ", db_->path()));
      }
      absl::StatusOr<bool> published = IsPublished(*version);
      if (!published.ok()) return published.status();
      if (!*published) {
        rocksdb::Status status = rdb->DeleteRange(
            rocksdb::WriteOptions(), rdb->DefaultColumnFamily(),
            keys::VersionDataBegin(*version), keys::VersionDataEnd(*version));
        if (!status.ok()) {
          return FromRocks(status, absl::StrCat("removing unpublished version ",
                                                *version));
        }
      }
      it->Seek(keys::VersionDataEnd(*version));
    }
    return FromRocks(it->status(), absl::StrCat("scanning ", db_->path()));
  }

  absl::Status Refresh() override { return db_->Refresh(); }

  absl::StatusOr<std::unique_ptr<VersionWriter>> CreateVersion() override {
    if (absl::Status s = RequireReadWrite("CreateVersion"); !s.ok()) return s;
    absl::MutexLock lock(&db_->mutex());
    absl::StatusOr<std::optional<uint64_t>> counter = GetBe64(keys::NextVersion());
    if (!counter.ok()) return counter.status();
    absl::StatusOr<std::optional<uint64_t>> newest = NewestPublished();
    if (!newest.ok()) return newest.status();
    uint64_t version = counter->value_or(1);
    if (newest->has_value()) version = std::max(version, **newest + 1);
    rocksdb::Status status = db_->db()->Put(Synced(), keys::NextVersion(),
                                            keys::EncodeBe64(version + 1));
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("reserving version ", version));
    }
    return std::unique_ptr<VersionWriter>(
        new RocksVersionWriter(db_, version, batch_bytes_));
  }

  absl::StatusOr<std::vector<VersionInfo>> ListVersions() const override {
    std::vector<VersionInfo> versions;
    const std::string prefix = keys::PublishedPrefix();
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      std::optional<uint64_t> version = keys::ParsePublished(
          absl::string_view(it->key().data(), it->key().size()));
      VersionInfo info;
      if (!version.has_value() ||
          !info.metadata.ParseFromArray(it->value().data(),
                                        static_cast<int>(it->value().size()))) {
        return absl::DataLossError(
            absl::StrCat("malformed published marker in ", db_->path()));
      }
      info.version = *version;
      versions.push_back(std::move(info));
    }
    if (absl::Status s = FromRocks(it->status(), absl::StrCat("listing ", db_->path()));
        !s.ok()) {
      return s;
    }
    return versions;
  }

  absl::StatusOr<uint64_t> LiveVersion() const override {
    absl::StatusOr<std::optional<uint64_t>> pinned = GetBe64(keys::Live());
    if (!pinned.ok()) return pinned.status();
    if (pinned->has_value()) return **pinned;
    absl::StatusOr<std::optional<uint64_t>> newest = NewestPublished();
    if (!newest.ok()) return newest.status();
    if (!newest->has_value()) {
      return absl::NotFoundError(
          absl::StrCat("no model version is published in ", db_->path()));
    }
    return **newest;
  }

  absl::Status SetLiveVersion(std::optional<uint64_t> version) override {
    if (absl::Status s = RequireReadWrite("SetLiveVersion"); !s.ok()) return s;
    absl::MutexLock lock(&db_->mutex());
    rocksdb::Status status;
    if (version.has_value()) {
      absl::StatusOr<bool> published = IsPublished(*version);
      if (!published.ok()) return published.status();
      if (!*published) {
        return absl::NotFoundError(absl::StrCat(
            "cannot pin version ", *version, ": not a published version"));
      }
      status = db_->db()->Put(Synced(), keys::Live(), keys::EncodeBe64(*version));
    } else {
      status = db_->db()->Delete(Synced(), keys::Live());
    }
    return FromRocks(status, "setting the live version");
  }

  absl::StatusOr<std::unique_ptr<ModelVersionReader>> OpenVersion(
      uint64_t version) const override {
    return RocksVersionReader::Open(db_, version);
  }

  absl::Status DeleteVersion(uint64_t version) override {
    if (absl::Status s = RequireReadWrite("DeleteVersion"); !s.ok()) return s;
    absl::MutexLock lock(&db_->mutex());
    absl::StatusOr<bool> published = IsPublished(version);
    if (!published.ok()) return published.status();
    if (!*published) {
      return absl::NotFoundError(absl::StrCat(
          "cannot delete version ", version, ": not a published version"));
    }
    absl::StatusOr<std::optional<uint64_t>> pinned = GetBe64(keys::Live());
    if (!pinned.ok()) return pinned.status();
    if (*pinned == version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot delete version ", version,
          ": it is pinned as the live version, expected an unpinned version"));
    }
    rocksdb::DB* rdb = db_->db();
    rocksdb::Status status = rdb->Delete(Synced(), keys::Published(version));
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("unpublishing version ", version));
    }
    const std::string begin = keys::VersionDataBegin(version);
    const std::string end = keys::VersionDataEnd(version);
    status = rdb->DeleteRange(rocksdb::WriteOptions(), rdb->DefaultColumnFamily(),
                              begin, end);
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("deleting version ", version));
    }
    // Reclaims the space now rather than at some later compaction.
    rocksdb::Slice begin_slice(begin), end_slice(end);
    status = rdb->CompactRange(rocksdb::CompactRangeOptions(), &begin_slice,
                               &end_slice);
    return FromRocks(status, absl::StrCat("compacting deleted version ", version));
  }

 private:
  absl::Status RequireReadWrite(absl::string_view operation) const {
    if (mode_ == Mode::kReadWrite) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(operation, " on ", db_->path(),
                     ": the store is open as a follower, expected kReadWrite"));
  }

  absl::StatusOr<bool> IsPublished(uint64_t version) const {
    std::string value;
    rocksdb::Status status =
        db_->db()->Get(rocksdb::ReadOptions(), keys::Published(version), &value);
    if (status.IsNotFound()) return false;
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("reading version ", version));
    }
    return true;
  }

  absl::StatusOr<std::optional<uint64_t>> GetBe64(const std::string& key) const {
    std::string value;
    rocksdb::Status status = db_->db()->Get(rocksdb::ReadOptions(), key, &value);
    if (status.IsNotFound()) return std::optional<uint64_t>();
    if (!status.ok()) return FromRocks(status, absl::StrCat("reading ", key));
    std::optional<uint64_t> decoded = keys::DecodeBe64(value);
    if (!decoded.has_value()) {
      return absl::DataLossError(absl::StrCat(
          "value of '", key, "' has ", value.size(), " bytes, expected 8"));
    }
    return decoded;
  }

  absl::StatusOr<std::optional<uint64_t>> NewestPublished() const {
    const std::string prefix = keys::PublishedPrefix();
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::Slice lower(prefix), upper(end);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
    it->SeekToLast();
    if (!it->Valid()) {
      if (absl::Status s = FromRocks(it->status(), "finding the newest version");
          !s.ok()) {
        return s;
      }
      return std::optional<uint64_t>();
    }
    std::optional<uint64_t> version = keys::ParsePublished(
        absl::string_view(it->key().data(), it->key().size()));
    if (!version.has_value()) {
      return absl::DataLossError(
          absl::StrCat("malformed published marker in ", db_->path()));
    }
    return version;
  }

  std::shared_ptr<RocksDb> db_;
  const Mode mode_;
  const size_t batch_bytes_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Open(const std::string& dir,
                                                             Mode mode) {
  return Open(dir, mode, ModelStoreOptions());
}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Open(
    const std::string& dir, Mode mode, const ModelStoreOptions& options) {
  RocksTuning tuning;
  tuning.block_cache_bytes = options.block_cache_bytes;
  tuning.bloom_bits_per_key = options.bloom_bits_per_key;
  tuning.write_buffer_bytes = options.write_buffer_bytes;
  tuning.background_jobs = options.background_jobs;
  absl::StatusOr<std::shared_ptr<RocksDb>> db = RocksDb::Open(
      dir + "/models",
      mode == Mode::kReadWrite ? RocksDb::Mode::kReadWrite : RocksDb::Mode::kFollower,
      tuning);
  if (!db.ok()) return db.status();
  auto store = std::make_unique<RocksModelStore>(
      *std::move(db), mode, std::max<size_t>(options.write_batch_bytes, 1));
  if (mode == Mode::kReadWrite) {
    if (absl::Status s = store->RemoveUnpublished(); !s.ok()) return s;
  }
  return std::unique_ptr<ModelStore>(std::move(store));
}

}  // namespace affinity::storage
