#include "storage/catalog_store.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

using affinity::v1::CatalogItem;

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

absl::StatusOr<CatalogItem> ParseItem(absl::string_view item_id,
                                      const rocksdb::Slice& value) {
  CatalogItem item;
  if (!item.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("catalog record of item '", item_id, "' does not parse"));
  }
  return item;
}

}  // namespace

absl::Status CheckCatalogItem(const CatalogItem& item) {
  if (item.item_id().empty()) {
    return absl::InvalidArgumentError("item_id: empty, expected an id");
  }
  if (item.has_price() && !std::isfinite(item.price())) {
    return absl::InvalidArgumentError(
        absl::StrCat("price: ", item.price(), ", expected a finite number (or no price)"));
  }
  return absl::OkStatus();
}

CatalogItem NewCatalogItem(absl::string_view item_id) {
  CatalogItem item;
  item.set_item_id(std::string(item_id));
  item.set_in_stock(true);
  return item;
}

void ApplyCatalogPatch(const CatalogPatch& patch, CatalogItem* item) {
  using google::protobuf::util::FieldMaskUtil;
  FieldMaskUtil::MergeOptions merge;
  merge.set_replace_repeated_fields(true);
  merge.set_replace_message_fields(true);
  const std::string item_id = item->item_id();
  FieldMaskUtil::MergeMessageTo(patch.item, patch.fields, merge, item);
  item->set_item_id(item_id);
}

CatalogStore::CatalogStore(std::shared_ptr<RocksDb> db, Mode mode)
    : db_(std::move(db)), mode_(mode) {}

CatalogStore::~CatalogStore() = default;

absl::StatusOr<std::unique_ptr<CatalogStore>> CatalogStore::Open(
    const std::string& dir, Mode mode, const CatalogStoreOptions& options) {
  const std::string path = dir + "/catalog";
  if (!options.expected_identity.empty() &&
      ReadDbIdentity(path) != std::optional<std::string>(options.expected_identity)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " no longer holds the catalog of identity ", options.expected_identity,
        " (deleted, or deleted and created again)"));
  }
  RocksTuning tuning;
  tuning.block_cache_bytes = options.block_cache_bytes;
  tuning.write_buffer_bytes = size_t{16} << 20;
  tuning.background_jobs = 2;
  absl::StatusOr<std::shared_ptr<RocksDb>> db = RocksDb::Open(
      path, mode == Mode::kReadWrite ? RocksDb::Mode::kReadWrite : RocksDb::Mode::kFollower,
      tuning);
  if (!db.ok()) return db.status();
  if (!options.expected_identity.empty() && (*db)->identity() != options.expected_identity) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " no longer holds the catalog of identity ", options.expected_identity,
        " (now ", (*db)->identity(), ")"));
  }
  return std::unique_ptr<CatalogStore>(new CatalogStore(*std::move(db), mode));
}

absl::Status CatalogStore::Refresh() { return db_->Refresh(); }

const std::string& CatalogStore::identity() const { return db_->identity(); }

absl::Status CatalogStore::CheckSameDatabase() const { return db_->CheckSameDatabase(); }

absl::Status CatalogStore::RequireReadWrite(absl::string_view operation) const {
  if (mode_ == Mode::kReadWrite) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(operation, " on ", db_->path(),
                   ": the catalog is open as a follower, expected kReadWrite"));
}

absl::StatusOr<int64_t> CatalogStore::ReadCount() const {
  std::string value;
  rocksdb::Status status =
      db_->db()->Get(rocksdb::ReadOptions(), keys::CatalogCount(), &value);
  if (status.IsNotFound()) return 0;
  if (!status.ok()) return FromRocks(status, "reading the catalog count");
  std::optional<uint64_t> count = keys::DecodeBe64(value);
  if (!count.has_value()) {
    return absl::DataLossError(absl::StrCat("catalog count has ", value.size(),
                                            " bytes, expected 8"));
  }
  return static_cast<int64_t>(*count);
}

absl::StatusOr<std::vector<bool>> CatalogStore::Exist(
    const std::vector<std::string>& ids) const {
  std::vector<std::string> key_strings;
  key_strings.reserve(ids.size());
  for (const std::string& id : ids) key_strings.push_back(keys::CatalogItem(id));
  std::vector<rocksdb::Slice> key_slices(key_strings.begin(), key_strings.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses =
      db_->db()->MultiGet(rocksdb::ReadOptions(), key_slices, &values);
  std::vector<bool> exist(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].ok()) {
      exist[i] = true;
    } else if (!statuses[i].IsNotFound()) {
      return FromRocks(statuses[i], absl::StrCat("reading item '", ids[i], "'"));
    }
  }
  return exist;
}

absl::Status CatalogStore::Upsert(absl::Span<const CatalogItem> items) {
  if (absl::Status s = RequireReadWrite("Upsert"); !s.ok()) return s;
  // Last occurrence of each id wins.
  absl::flat_hash_map<absl::string_view, const CatalogItem*> latest;
  std::vector<std::string> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    const CatalogItem& item = items[i];
    if (item.item_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "catalog item #", i, " has an empty item_id, expected an id"));
    }
    if (absl::Status s = CheckCatalogItem(item); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalog item #", i, " ('", item.item_id(), "'): ", s.message()));
    }
    auto [it, inserted] = latest.emplace(item.item_id(), &item);
    if (inserted) {
      ids.push_back(item.item_id());
    } else {
      it->second = &item;
    }
  }
  if (ids.empty()) return absl::OkStatus();

  absl::MutexLock lock(&db_->mutex());
  absl::StatusOr<int64_t> count = ReadCount();
  if (!count.ok()) return count.status();
  absl::StatusOr<std::vector<bool>> exist = Exist(ids);
  if (!exist.ok()) return exist.status();
  rocksdb::WriteBatch batch;
  std::string value;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!(*exist)[i]) ++*count;
    latest[ids[i]]->SerializeToString(&value);
    batch.Put(keys::CatalogItem(ids[i]), value).PermitUncheckedError();
  }
  batch.Put(keys::CatalogCount(), keys::EncodeBe64(*count)).PermitUncheckedError();
  return FromRocks(db_->db()->Write(Synced(), &batch),
                   absl::StrCat("writing ", ids.size(), " catalog items"));
}

absl::StatusOr<CatalogWriteCounts> CatalogStore::Patch(
    absl::Span<const CatalogPatch> patches) {
  return Write(patches, /*replace=*/false);
}

absl::StatusOr<CatalogWriteCounts> CatalogStore::Replace(
    absl::Span<const CatalogPatch> patches) {
  return Write(patches, /*replace=*/true);
}

absl::StatusOr<CatalogWriteCounts> CatalogStore::Write(absl::Span<const CatalogPatch> patches,
                                                       bool replace) {
  using google::protobuf::util::FieldMaskUtil;
  if (absl::Status s = RequireReadWrite(replace ? "Replace" : "Patch"); !s.ok()) return s;
  // Distinct ids in first-seen order, and each one's patches in order.
  std::vector<std::string> ids;
  absl::flat_hash_map<absl::string_view, std::vector<size_t>> patches_of;
  for (size_t i = 0; i < patches.size(); ++i) {
    const CatalogPatch& patch = patches[i];
    if (patch.item.item_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "catalog item #", i, " has an empty item_id, expected an id"));
    }
    if (!FieldMaskUtil::IsValidFieldMask<CatalogItem>(patch.fields)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "catalog item #", i, " ('", patch.item.item_id(), "'): fields '",
          FieldMaskUtil::ToString(patch.fields), "', expected CatalogItem field names"));
    }
    auto [it, inserted] = patches_of.try_emplace(patch.item.item_id());
    if (inserted) ids.push_back(patch.item.item_id());
    it->second.push_back(i);
  }

  absl::MutexLock lock(&db_->mutex());
  absl::StatusOr<std::vector<std::optional<CatalogItem>>> stored = GetMany(ids);
  if (!stored.ok()) return stored.status();
  CatalogWriteCounts counts;
  rocksdb::WriteBatch batch;
  std::string value;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::optional<CatalogItem>& before = (*stored)[i];
    CatalogItem item = before.has_value() && !replace ? *before : NewCatalogItem(ids[i]);
    for (size_t p : patches_of[ids[i]]) ApplyCatalogPatch(patches[p], &item);
    if (absl::Status s = CheckCatalogItem(item); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "catalog item #", patches_of[ids[i]].back(), " ('", ids[i], "'): ", s.message()));
    }
    if (!before.has_value()) {
      ++counts.added;
    } else if (google::protobuf::util::MessageDifferencer::Equals(*before, item)) {
      ++counts.unchanged;
      continue;
    } else {
      ++counts.updated;
    }
    item.SerializeToString(&value);
    batch.Put(keys::CatalogItem(ids[i]), value).PermitUncheckedError();
  }
  absl::StatusOr<int64_t> count = ReadCount();
  if (!count.ok()) return count.status();
  int64_t total = *count + counts.added;
  if (replace) {
    // Every stored id the patches do not name goes.
    const std::string prefix = keys::CatalogItemPrefix();
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      const absl::string_view key(it->key().data(), it->key().size());
      std::optional<absl::string_view> id = keys::ParseCatalogItem(key);
      if (id.has_value() && patches_of.contains(*id)) continue;
      batch.Delete(it->key()).PermitUncheckedError();
      ++counts.removed;
    }
    if (absl::Status s = FromRocks(it->status(), absl::StrCat("scanning ", db_->path()));
        !s.ok()) {
      return s;
    }
    total = static_cast<int64_t>(ids.size());
  }
  if (batch.Count() == 0) return counts;
  batch.Put(keys::CatalogCount(), keys::EncodeBe64(total)).PermitUncheckedError();
  if (absl::Status s = FromRocks(
          db_->db()->Write(Synced(), &batch),
          absl::StrCat("writing ", counts.added + counts.updated, " and removing ",
                       counts.removed, " catalog items"));
      !s.ok()) {
    return s;
  }
  return counts;
}

absl::StatusOr<int64_t> CatalogStore::Delete(absl::Span<const std::string> item_ids) {
  if (absl::Status s = RequireReadWrite("Delete"); !s.ok()) return s;
  std::vector<std::string> ids(item_ids.begin(), item_ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  absl::MutexLock lock(&db_->mutex());
  absl::StatusOr<int64_t> count = ReadCount();
  if (!count.ok()) return count.status();
  absl::StatusOr<std::vector<bool>> exist = Exist(ids);
  if (!exist.ok()) return exist.status();
  rocksdb::WriteBatch batch;
  int64_t removed = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!(*exist)[i]) continue;
    batch.Delete(keys::CatalogItem(ids[i])).PermitUncheckedError();
    ++removed;
  }
  if (removed == 0) return 0;
  batch.Put(keys::CatalogCount(), keys::EncodeBe64(*count - removed))
      .PermitUncheckedError();
  if (absl::Status s = FromRocks(db_->db()->Write(Synced(), &batch),
                                 absl::StrCat("deleting ", removed, " catalog items"));
      !s.ok()) {
    return s;
  }
  return removed;
}

absl::StatusOr<CatalogItem> CatalogStore::Get(absl::string_view item_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status status =
      db_->db()->Get(rocksdb::ReadOptions(), db_->db()->DefaultColumnFamily(),
                     keys::CatalogItem(item_id), &value);
  if (status.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("item '", item_id, "' is not in the catalog"));
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("reading item '", item_id, "'"));
  }
  return ParseItem(item_id, value);
}

absl::StatusOr<std::vector<std::optional<CatalogItem>>> CatalogStore::GetMany(
    absl::Span<const std::string> item_ids) const {
  std::vector<std::string> key_strings;
  key_strings.reserve(item_ids.size());
  for (const std::string& id : item_ids) key_strings.push_back(keys::CatalogItem(id));
  std::vector<rocksdb::Slice> key_slices(key_strings.begin(), key_strings.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses =
      db_->db()->MultiGet(rocksdb::ReadOptions(), key_slices, &values);
  std::vector<std::optional<CatalogItem>> items(item_ids.size());
  for (size_t i = 0; i < item_ids.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return FromRocks(statuses[i], absl::StrCat("reading item '", item_ids[i], "'"));
    }
    absl::StatusOr<CatalogItem> item = ParseItem(item_ids[i], values[i]);
    if (!item.ok()) return item.status();
    items[i] = *std::move(item);
  }
  return items;
}

absl::Status CatalogStore::ForEach(
    const std::function<absl::Status(const CatalogItem&)>& fn) const {
  const std::string prefix = keys::CatalogItemPrefix();
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::optional<absl::string_view> id = keys::ParseCatalogItem(
        absl::string_view(it->key().data(), it->key().size()));
    absl::StatusOr<CatalogItem> item = ParseItem(id.value_or(""), it->value());
    if (!item.ok()) return item.status();
    if (absl::Status s = fn(*item); !s.ok()) return s;
  }
  return FromRocks(it->status(), absl::StrCat("scanning ", db_->path()));
}

absl::StatusOr<int64_t> CatalogStore::Count() const { return ReadCount(); }

}  // namespace affinity::storage
