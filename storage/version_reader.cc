#include "storage/version_reader.h"

#include <algorithm>
#include <new>

#include "absl/strings/str_cat.h"
#include "storage/index_blob.h"
#include "storage/keys.h"
#include "storage/record_codec.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

// Ids reserved up front at most; beyond, they grow as records are read.
constexpr int64_t kMaxReserve = int64_t{1} << 16;

}  // namespace

RocksVersionReader::RocksVersionReader(std::shared_ptr<RocksDb> db,
                                       uint64_t version)
    : db_(std::move(db)), version_(version) {
  // Secondary instances cannot read at a snapshot; a follower reads the
  // latest state it caught up with, and a published version never changes.
  if (db_->mode() == RocksDb::Mode::kReadWrite) {
    snapshot_ = db_->db()->GetSnapshot();
  }
}

RocksVersionReader::~RocksVersionReader() {
  if (snapshot_ != nullptr) db_->db()->ReleaseSnapshot(snapshot_);
}

rocksdb::ReadOptions RocksVersionReader::ReadAt() const {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  return options;
}

absl::StatusOr<std::unique_ptr<ModelVersionReader>> RocksVersionReader::Open(
    std::shared_ptr<RocksDb> db, uint64_t version) {
  // Everything held in memory is sized by what the store holds, but a
  // version may simply be too large for this machine.
  try {
    return OpenOrThrow(std::move(db), version);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("version ", version, ": out of memory while reading its item ids"));
  }
}

absl::StatusOr<std::unique_ptr<ModelVersionReader>> RocksVersionReader::OpenOrThrow(
    std::shared_ptr<RocksDb> db, uint64_t version) {
  std::unique_ptr<RocksVersionReader> reader(
      new RocksVersionReader(std::move(db), version));
  rocksdb::DB* rdb = reader->db_->db();

  std::string value;
  rocksdb::Status status =
      rdb->Get(reader->ReadAt(), keys::Published(version), &value);
  if (status.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("model version ", version, " is not published"));
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("reading version ", version));
  }
  if (!reader->metadata_.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("metadata of version ", version, " does not parse"));
  }

  status = rdb->Get(reader->ReadAt(), keys::Popular(version), &value);
  if (!status.ok()) {
    return FromRocks(status,
                     absl::StrCat("reading popular items of version ", version));
  }
  absl::StatusOr<std::vector<uint32_t>> popular = DecodePopular(value);
  if (!popular.ok()) return popular.status();
  reader->popular_ = *std::move(popular);

  if (absl::Status s = reader->LoadItems(); !s.ok()) return s;
  return std::unique_ptr<ModelVersionReader>(std::move(reader));
}

absl::Status RocksVersionReader::Scan(
    const std::string& prefix,
    const std::function<absl::Status(absl::string_view key,
                                     absl::string_view value)>& fn) const {
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options = ReadAt();
  options.iterate_upper_bound = &upper;
  options.readahead_size = size_t{2} << 20;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    absl::Status s = fn(absl::string_view(it->key().data(), it->key().size()),
                        absl::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), absl::StrCat("scanning version ", version_));
}

absl::Status RocksVersionReader::LoadItems() {
  const int64_t items = metadata_.items();
  const int64_t dims = metadata_.dims();
  const std::string where = absl::StrCat("version ", version_, ": ");
  if (items < 0) {
    return absl::DataLossError(
        absl::StrCat(where, "its metadata says ", items, " items, expected 0 or more"));
  }
  // The metadata alone never sizes an allocation: the ids grow with the
  // records actually read (keys ascend by index, so record i comes i-th).
  const size_t reserve = static_cast<size_t>(std::min<int64_t>(items, kMaxReserve));
  item_ids_.reserve(reserve);
  item_index_.reserve(reserve);
  absl::Status s = Scan(
      keys::ItemPrefix(version_),
      [&](absl::string_view key, absl::string_view value) -> absl::Status {
        std::optional<uint32_t> index = keys::ParseItem(version_, key);
        absl::StatusOr<ItemView> item = DecodeItem(value);
        if (!index.has_value() || !item.ok()) {
          return absl::DataLossError(
              absl::StrCat(where, "malformed item record",
                           item.ok() ? "" : ": " + item.status().ToString()));
        }
        if (*index >= items) {
          return absl::DataLossError(absl::StrCat(where, "item record ", *index,
                                                  ", expected indices below ", items,
                                                  " (its metadata's item count)"));
        }
        if (*index != item_ids_.size()) {
          return absl::DataLossError(absl::StrCat(where, "item ", item_ids_.size(),
                                                  " is missing (next record is item ", *index,
                                                  ")"));
        }
        if (static_cast<int64_t>(item->dims) != dims) {
          return absl::DataLossError(absl::StrCat(where, "item ", *index, " has ", item->dims,
                                                  " dims, expected ", dims,
                                                  " (its metadata's dims)"));
        }
        item_index_.emplace(item->item_id, *index);
        item_ids_.emplace_back(item->item_id);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (static_cast<int64_t>(item_ids_.size()) != items) {
    return absl::DataLossError(absl::StrCat(where, "its metadata says ", items,
                                            " items, the store holds ", item_ids_.size()));
  }
  return absl::OkStatus();
}

absl::Status RocksVersionReader::ReadItemFactors(absl::Span<float> out) const {
  const size_t dims = metadata_.dims();
  const size_t expected = static_cast<size_t>(metadata_.items()) * dims;
  if (out.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("item factor buffer of ", out.size(), " floats, expected ",
                     expected, " (items x dims of version ", version_, ")"));
  }
  return Scan(keys::ItemPrefix(version_),
              [&](absl::string_view key, absl::string_view value) -> absl::Status {
                std::optional<uint32_t> index = keys::ParseItem(version_, key);
                absl::StatusOr<ItemView> item = DecodeItem(value);
                if (!index.has_value() || *index >= metadata_.items() ||
                    !item.ok() || item->dims != dims) {
                  return absl::DataLossError(
                      absl::StrCat("version ", version_,
                                   ": malformed item record, expected ", dims,
                                   " dims and an index below ", metadata_.items()));
                }
                CopyFactors(*item, out.subspan(*index * dims, dims));
                return absl::OkStatus();
              });
}

absl::StatusOr<UserRecord> RocksVersionReader::GetUser(
    absl::string_view user_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status status =
      db_->db()->Get(ReadAt(), db_->db()->DefaultColumnFamily(),
                     keys::User(version_, user_id), &value);
  if (status.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("user '", user_id, "' is not in model version ", version_));
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("reading user '", user_id,
                                          "' of version ", version_));
  }
  return DecodeUser(absl::string_view(value.data(), value.size()));
}

absl::StatusOr<uint32_t> RocksVersionReader::ItemIndex(
    absl::string_view item_id) const {
  auto it = item_index_.find(item_id);
  if (it == item_index_.end()) {
    return absl::NotFoundError(
        absl::StrCat("item '", item_id, "' is not in model version ", version_));
  }
  return it->second;
}

absl::Status RocksVersionReader::ForEachUser(
    const std::function<absl::Status(absl::string_view user_id,
                                     const UserRecord&)>& fn) const {
  return Scan(keys::UserPrefix(version_),
              [&](absl::string_view key, absl::string_view value) -> absl::Status {
                std::optional<absl::string_view> id = keys::ParseUser(version_, key);
                if (!id.has_value()) {
                  return absl::DataLossError(
                      absl::StrCat("version ", version_, ": malformed user key"));
                }
                absl::StatusOr<UserRecord> user = DecodeUser(value);
                if (!user.ok()) return user.status();
                return fn(*id, *user);
              });
}

absl::StatusOr<std::vector<affinity::v1::IndexHeader>> RocksVersionReader::ListIndexes() const {
  return ListIndexHeaders(*db_, ReadAt(), version_);
}

absl::StatusOr<std::unique_ptr<IndexReader>> RocksVersionReader::OpenIndex(
    absl::string_view kind, absl::string_view params) const {
  return OpenIndexReader(db_, version_, kind, params);
}

}  // namespace affinity::storage
