#include "storage/version_writer.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "rocksdb/options.h"
#include "storage/index_blob.h"
#include "storage/keys.h"
#include "storage/rocks_db.h"
#include "storage/version_clearing.h"
#include "storage/record_codec.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

constexpr uint32_t kMaxIndex = static_cast<uint32_t>(kMaxIdsPerVersion - 1);
static_assert(kMaxIndex == std::numeric_limits<int32_t>::max());

}  // namespace

RocksVersionWriter::RocksVersionWriter(std::shared_ptr<RocksDb> db,
                                       uint64_t version, size_t batch_bytes)
    : db_(std::move(db)), version_(version), batch_bytes_(batch_bytes) {}

RocksVersionWriter::~RocksVersionWriter() {
  if (published_) return;
  batch_.Clear();
  // Best effort: a failure here leaves unpublished data that the next
  // read-write Open removes.
  ClearVersionData(db_->db(), version_, "removing an unfinished version").IgnoreError();
}

absl::Status RocksVersionWriter::CheckWritable() const {
  if (published_) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", version_, " is already published"));
  }
  return absl::OkStatus();
}

absl::Status RocksVersionWriter::CheckDims(absl::string_view what,
                                           absl::Span<const float> factors) {
  if (factors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": empty vector, expected at least one factor"));
  }
  if (dims_ < 0) {
    dims_ = static_cast<int64_t>(factors.size());
  } else if (static_cast<int64_t>(factors.size()) != dims_) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", factors.size(), " factors, expected ", dims_,
                     " like the first vector of version ", version_));
  }
  return absl::OkStatus();
}

bool RocksVersionWriter::MarkIndex(uint32_t index, std::vector<bool>* used) {
  if (index >= used->size()) used->resize(std::max<size_t>(index + 1, used->size() * 2));
  if ((*used)[index]) return false;
  (*used)[index] = true;
  return true;
}

absl::Status RocksVersionWriter::MaybeCommit() {
  if (batch_.GetDataSize() < batch_bytes_) return absl::OkStatus();
  return Commit();
}

absl::Status RocksVersionWriter::Commit() {
  if (batch_.Count() == 0) return absl::OkStatus();
  rocksdb::WriteOptions options;
  // Publish flushes the memtables before the marker; until then a crash may
  // lose rows of this (invisible) version only.
  options.disableWAL = true;
  rocksdb::Status status = db_->db()->Write(options, &batch_);
  batch_.Clear();
  return FromRocks(status, absl::StrCat("writing version ", version_));
}

absl::Status RocksVersionWriter::AddItem(uint32_t index, absl::string_view item_id,
                                         absl::Span<const float> factors) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const std::string what = absl::StrCat("item '", item_id, "' (index ", index, ")");
  if (item_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("item index ", index, ": empty item id, expected an id"));
  }
  if (index > kMaxIndex) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": index expected at most ", kMaxIndex));
  }
  if (absl::Status s = CheckDims(what, factors); !s.ok()) return s;
  if (item_ids_.contains(item_id)) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": item id already added"));
  }
  if (!MarkIndex(index, &item_index_used_)) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": index already added"));
  }
  item_ids_.insert(std::string(item_id));
  ++items_;
  EncodeItem(item_id, factors, &value_);
  batch_.Put(keys::Item(version_, index), value_).PermitUncheckedError();
  return MaybeCommit();
}

absl::Status RocksVersionWriter::AddUser(uint32_t index, absl::string_view user_id,
                                         absl::Span<const float> factors,
                                         absl::Span<const uint32_t> seen) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const std::string what = absl::StrCat("user '", user_id, "' (index ", index, ")");
  if (user_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("user index ", index, ": empty user id, expected an id"));
  }
  if (index > kMaxIndex) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": index expected at most ", kMaxIndex));
  }
  if (absl::Status s = CheckDims(what, factors); !s.ok()) return s;
  if (user_ids_.contains(user_id)) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": user id already added"));
  }
  if (!MarkIndex(index, &user_index_used_)) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": index already added"));
  }
  user_ids_.insert(std::string(user_id));
  ++users_;
  std::vector<uint32_t> sorted;
  absl::Span<const uint32_t> ordered = seen;
  if (!std::is_sorted(seen.begin(), seen.end())) {
    sorted.assign(seen.begin(), seen.end());
    std::sort(sorted.begin(), sorted.end());
    ordered = sorted;
  }
  if (!ordered.empty()) {
    max_seen_ = std::max<int64_t>(max_seen_, ordered.back());
  }
  EncodeUser(index, factors, ordered, &value_);
  batch_.Put(keys::User(version_, user_id), value_).PermitUncheckedError();
  return MaybeCommit();
}

absl::Status RocksVersionWriter::SetPopularItems(absl::Span<const uint32_t> items) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  popular_.assign(items.begin(), items.end());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<IndexWriter>> RocksVersionWriter::CreateIndexWriter(
    affinity::v1::IndexHeader header) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (absl::Status s = CheckIndexName(header); !s.ok()) return s;
  return NewIndexWriter(db_, version_, std::move(header), batch_bytes_);
}

absl::Status RocksVersionWriter::CheckComplete(
    const affinity::v1::ModelMetadata& metadata) const {
  const std::string where = absl::StrCat("publishing version ", version_);
  if (items_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": no items added, expected at least one"));
  }
  if (metadata.dims() != dims_) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": metadata.dims is ", metadata.dims(),
                     ", expected ", dims_, " (the length of the added vectors)"));
  }
  if (metadata.items() < 0 || static_cast<uint64_t>(metadata.items()) != items_) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": metadata.items is ", metadata.items(), ", expected ",
                     items_, " (the number of items added)"));
  }
  if (metadata.users() < 0 || static_cast<uint64_t>(metadata.users()) != users_) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": metadata.users is ", metadata.users(), ", expected ",
                     users_, " (the number of users added)"));
  }
  // Distinct indices, as many as the count: they are 0..n-1 iff none is >= n.
  for (size_t i = items_; i < item_index_used_.size(); ++i) {
    if (item_index_used_[i]) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": item index ", i, " added, expected indices 0..", items_ - 1));
    }
  }
  for (size_t i = users_; i < user_index_used_.size(); ++i) {
    if (user_index_used_[i]) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": user index ", i, " added, expected indices 0..",
          users_ == 0 ? 0 : users_ - 1));
    }
  }
  if (max_seen_ >= static_cast<int64_t>(items_)) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": a user has seen item index ", max_seen_,
                     ", expected indices below ", items_));
  }
  for (uint32_t item : popular_) {
    if (item >= items_) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, ": popular item index ", item,
                       ", expected indices below ", items_));
    }
  }
  return absl::OkStatus();
}

absl::Status RocksVersionWriter::Publish(affinity::v1::ModelMetadata metadata) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (absl::Status s = CheckComplete(metadata); !s.ok()) return s;
  batch_.Put(keys::Popular(version_), EncodePopular(popular_))
      .PermitUncheckedError();
  if (absl::Status s = Commit(); !s.ok()) return s;

  if (absl::Status s = FlushMemtables(db_->db(), absl::StrCat("version ", version_));
      !s.ok()) {
    return s;
  }

  metadata.set_version(version_);
  std::string marker;
  if (!metadata.SerializeToString(&marker)) {
    return absl::InternalError(
        absl::StrCat("serializing the metadata of version ", version_));
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  if (absl::Status s = FromRocks(
          db_->db()->Put(synced, keys::Published(version_), marker),
          absl::StrCat("publishing version ", version_));
      !s.ok()) {
    return s;
  }
  published_ = true;
  item_ids_.clear();
  user_ids_.clear();
  return absl::OkStatus();
}

}  // namespace affinity::storage
