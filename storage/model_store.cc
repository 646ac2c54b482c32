#include "storage/model_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/index_blob.h"
#include "storage/keys.h"
#include "storage/version_clearing.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"
#include "storage/version_reader.h"
#include "storage/version_writer.h"

namespace affinity::storage {

namespace {
constexpr char kNoModelStorePayload[] = "type.affinity/no-model-store";
}  // namespace

absl::Status NoModelStoreError(absl::string_view dir, absl::string_view detail) {
  absl::Status status =
      absl::NotFoundError(absl::StrCat("no model store at ", dir, " (", detail, ")"));
  status.SetPayload(kNoModelStorePayload, absl::Cord(dir));
  return status;
}

bool IsNoModelStore(const absl::Status& status) {
  return absl::IsNotFound(status) && status.GetPayload(kNoModelStorePayload).has_value();
}

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
      if (*published) {
        if (absl::Status s = RemoveIncompleteIndexes(*db_, *version); !s.ok()) return s;
      } else {
        if (absl::Status s = ClearVersionData(rdb, *version, "removing an unpublished version");
            !s.ok()) {
          return s;
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
    absl::StatusOr<affinity::v1::ResolvedRollout> resolved = ResolvedRollout();
    if (!resolved.ok()) return resolved.status();
    return resolved->arms(0).version();
  }

  absl::Status SetLiveVersion(std::optional<uint64_t> version, const std::string& by) override {
    if (absl::Status s = RequireReadWrite("SetLiveVersion"); !s.ok()) return s;
    absl::StatusOr<affinity::v1::RolloutState> state = GetRollout();
    if (!state.ok()) return state.status();
    affinity::v1::RolloutState next = *state;
    RolloutChangeInfo change;
    change.by = by;
    if (version.has_value()) {
      absl::StatusOr<uint64_t> live = LiveVersion();
      if (live.ok() && *live != *version) next.set_previous_control_version(*live);
      next.set_control_version(*version);
      next.clear_arms();
      change.action = "pin";
      change.reason = absl::StrCat("control pinned to version ", *version,
                                   " with all traffic");
    } else {
      next.set_control_version(0);
      change.action = "unpin";
      change.reason = "control follows the newest eligible version";
    }
    absl::StatusOr<affinity::v1::RolloutState> stored =
        UpdateRollout(state->revision(), std::move(next), change);
    return stored.status();
  }

  absl::StatusOr<affinity::v1::RolloutState> GetRollout() const override {
    std::string value;
    rocksdb::Status status =
        db_->db()->Get(rocksdb::ReadOptions(), keys::RolloutState(), &value);
    affinity::v1::RolloutState state;
    if (status.ok()) {
      if (!state.ParseFromString(value)) {
        return absl::DataLossError(absl::StrCat("malformed rollout state in ", db_->path()));
      }
      return state;
    }
    if (!status.IsNotFound()) return FromRocks(status, "reading the rollout state");
    // A store written before rollouts existed may have a pinned version.
    absl::StatusOr<std::optional<uint64_t>> pinned = GetBe64(keys::Live());
    if (!pinned.ok()) return pinned.status();
    if (pinned->has_value()) state.set_control_version(**pinned);
    return state;
  }

  absl::StatusOr<affinity::v1::ResolvedRollout> ResolvedRollout() const override {
    absl::StatusOr<affinity::v1::RolloutState> state = GetRollout();
    if (!state.ok()) return state.status();
    absl::StatusOr<std::vector<VersionInfo>> versions = ListVersions();
    if (!versions.ok()) return versions.status();
    absl::StatusOr<affinity::v1::ResolvedRollout> resolved = ResolveRollout(*state, *versions);
    if (!resolved.ok() && absl::IsNotFound(resolved.status())) {
      return absl::NotFoundError(absl::StrCat(resolved.status().message(), " in ", db_->path()));
    }
    return resolved;
  }

  absl::StatusOr<affinity::v1::RolloutState> UpdateRollout(
      uint64_t expected_revision, affinity::v1::RolloutState next,
      const RolloutChangeInfo& change) override {
    if (absl::Status s = RequireReadWrite("UpdateRollout"); !s.ok()) return s;
    if (absl::Status s = ValidateRolloutState(next); !s.ok()) return s;
    absl::MutexLock lock(&db_->mutex());
    absl::StatusOr<affinity::v1::RolloutState> current = GetRollout();
    if (!current.ok()) return current.status();
    if (current->revision() != expected_revision) {
      return absl::AbortedError(absl::StrCat(
          "the rollout changed meanwhile (revision ", current->revision(), ", expected ",
          expected_revision, "); read it again and retry"));
    }
    absl::StatusOr<std::vector<VersionInfo>> versions = ListVersions();
    if (!versions.ok()) return versions.status();
    if (absl::Status s = CheckServable(next, *versions); !s.ok()) return s;
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    next.set_revision(expected_revision + 1);
    next.set_updated_at_unix(now);
    next.set_updated_by(change.by);
    affinity::v1::RolloutChange entry;
    entry.set_revision(next.revision());
    entry.set_at_unix(now);
    entry.set_by(change.by);
    entry.set_action(change.action);
    entry.set_reason(change.reason);
    *entry.mutable_before() = *current;
    *entry.mutable_after() = next;
    rocksdb::WriteBatch batch;
    batch.Put(keys::RolloutState(), next.SerializeAsString());
    batch.Put(keys::RolloutHistory(next.revision()), entry.SerializeAsString());
    batch.Delete(keys::Live());
    rocksdb::Status status = db_->db()->Write(Synced(), &batch);
    if (!status.ok()) return FromRocks(status, "writing the rollout state");
    return next;
  }

  absl::StatusOr<std::vector<affinity::v1::RolloutChange>> RolloutHistory(
      size_t limit) const override {
    std::vector<affinity::v1::RolloutChange> out;
    const std::string prefix = keys::RolloutHistoryPrefix();
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::Slice lower(prefix), upper(end);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options));
    for (it->SeekToLast(); it->Valid() && out.size() < limit; it->Prev()) {
      affinity::v1::RolloutChange change;
      if (!change.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("malformed rollout history in ", db_->path()));
      }
      out.push_back(std::move(change));
    }
    if (absl::Status s = FromRocks(it->status(), "reading the rollout history"); !s.ok()) {
      return s;
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<ModelVersionReader>> OpenVersion(
      uint64_t version) const override {
    return RocksVersionReader::Open(db_, version);
  }

  absl::StatusOr<std::unique_ptr<IndexWriter>> CreateIndexWriter(
      uint64_t version, affinity::v1::IndexHeader header) override {
    if (absl::Status s = RequireReadWrite("CreateIndexWriter"); !s.ok()) return s;
    if (absl::Status s = CheckIndexName(header); !s.ok()) return s;
    absl::MutexLock lock(&db_->mutex());
    std::string value;
    rocksdb::Status status =
        db_->db()->Get(rocksdb::ReadOptions(), keys::Published(version), &value);
    if (status.IsNotFound()) {
      return absl::NotFoundError(absl::StrCat("cannot add an index to version ", version,
                                              ": not a published version"));
    }
    if (!status.ok()) return FromRocks(status, absl::StrCat("reading version ", version));
    affinity::v1::ModelMetadata metadata;
    if (!metadata.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("metadata of version ", version, " does not parse"));
    }
    if (header.items() != metadata.items() || header.dims() != metadata.dims()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "index ", header.kind(), "/", header.params(), " of ", header.items(), " items x ",
          header.dims(), " dims, expected version ", version, "'s ", metadata.items(), " x ",
          metadata.dims()));
    }
    status = db_->db()->Delete(Synced(), keys::IndexHeader(version, header.kind(), header.params()));
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("replacing index ", header.kind(), "/",
                                            header.params(), " of version ", version));
    }
    return NewIndexWriter(db_, version, std::move(header), batch_bytes_);
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
    if (absl::Status s = CheckUnreferenced(version); !s.ok()) return s;
    rocksdb::DB* rdb = db_->db();
    rocksdb::Status status = rdb->Delete(Synced(), keys::Published(version));
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("unpublishing version ", version));
    }
    if (absl::Status s = ClearVersionData(rdb, version, "deleting a version"); !s.ok()) return s;
    const std::string begin = keys::VersionDataBegin(version);
    const std::string end = keys::VersionDataEnd(version);
    // Reclaims the space now rather than at some later compaction.
    rocksdb::Slice begin_slice(begin), end_slice(end);
    status = rdb->CompactRange(rocksdb::CompactRangeOptions(), &begin_slice,
                               &end_slice);
    return FromRocks(status, absl::StrCat("compacting deleted version ", version));
  }

 private:
  // Every version an arm or a pinned control names must be published and
  // eligible; a shadow must be published.
  static absl::Status CheckServable(const affinity::v1::RolloutState& state,
                                    const std::vector<VersionInfo>& versions) {
    auto check = [&](uint64_t version, absl::string_view role, bool need_eligible) {
      for (const VersionInfo& v : versions) {
        if (v.version != version) continue;
        if (need_eligible && !IsEligible(v.metadata)) {
          const affinity::v1::GateRecord& gate = v.metadata.gate();
          const std::string why =
              gate.outcome() == affinity::v1::GateRecord::NOT_COMPARABLE
                  ? absl::StrCat("it could not be compared with version ", gate.live_version(),
                                 ": ", gate.method())
                  : absl::StrCat(gate.metric(), " ", gate.candidate_value(), " vs ",
                                 gate.live_value(), " of version ", gate.live_version());
          return absl::FailedPreconditionError(absl::StrCat(
              role, ": version ", version, " may not take traffic: the nightly gate refused it (",
              why, ")"));
        }
        return absl::OkStatus();
      }
      return absl::NotFoundError(
          absl::StrCat(role, ": version ", version, " is not a published version"));
    };
    if (state.control_version() != 0) {
      if (absl::Status s = check(state.control_version(), "control", true); !s.ok()) return s;
    }
    for (const affinity::v1::RolloutArm& arm : state.arms()) {
      if (absl::Status s = check(arm.version(), absl::StrCat("arm ", arm.name()), true); !s.ok()) {
        return s;
      }
    }
    if (state.shadow().version() != 0) {
      if (absl::Status s = check(state.shadow().version(), "shadow", false); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // FailedPrecondition when the rollout refers to `version`.
  absl::Status CheckUnreferenced(uint64_t version) const {
    absl::StatusOr<affinity::v1::RolloutState> state = GetRollout();
    if (!state.ok()) return state.status();
    absl::StatusOr<std::vector<VersionInfo>> versions = ListVersions();
    if (!versions.ok()) return versions.status();
    absl::StatusOr<affinity::v1::ResolvedRollout> resolved = ResolveRollout(*state, *versions);
    const std::set<uint64_t> referenced =
        ReferencedVersions(*state, resolved.ok() ? &*resolved : nullptr);
    if (!referenced.count(version)) return absl::OkStatus();
    std::string role = "referenced by the rollout";
    if (resolved.ok()) {
      for (const affinity::v1::ResolvedArm& arm : resolved->arms()) {
        if (arm.version() == version) {
          role = arm.name() == kControlArmName ? "the live version (control)"
                                               : absl::StrCat("serving in arm ", arm.name());
        }
      }
    }
    if (state->control_version() == version) role = "pinned as the live version";
    if (state->shadow().version() == version) role = "the shadow version";
    if (state->previous_control_version() == version && role == "referenced by the rollout") {
      role = "the version a rollback returns to";
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot delete version ", version, ": it is ", role,
        "; change the rollout first (affinity rollout show)"));
  }

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
  tuning.lock_wait_ms = options.lock_wait_ms;
  tuning.create_if_missing = options.create_if_missing;
  absl::StatusOr<std::shared_ptr<RocksDb>> db = RocksDb::Open(
      dir + "/models",
      mode == Mode::kReadWrite ? RocksDb::Mode::kReadWrite : RocksDb::Mode::kFollower,
      tuning);
  if (absl::IsNotFound(db.status()) && !options.create_if_missing) {
    return NoModelStoreError(dir, absl::StrCat(dir, "/models does not exist"));
  }
  if (!db.ok()) return db.status();
  auto store = std::make_unique<RocksModelStore>(
      *std::move(db), mode, std::max<size_t>(options.write_batch_bytes, 1));
  if (mode == Mode::kReadWrite) {
    if (absl::Status s = store->RemoveUnpublished(); !s.ok()) return s;
  }
  return std::unique_ptr<ModelStore>(std::move(store));
}

absl::Status CheckStoreWritable(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path models = fs::absolute(fs::path(dir) / "models");
  auto refuse = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write a model store at ", dir, ": ", why));
  };
  // The nearest existing path: the store itself, or where it would be made.
  fs::path existing = models;
  std::error_code ec;
  while (!fs::exists(existing, ec)) {
    if (!existing.has_relative_path()) return refuse("no existing parent directory");
    existing = existing.parent_path();
  }
  if (!fs::is_directory(existing, ec)) {
    return refuse(absl::StrCat(existing.string(), " is not a directory"));
  }
  // access() says yes to root on a read-only file system: try a file.
  std::string probe = (existing / ".affinity-write-check-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) {
    const int err = errno;
    return refuse(absl::StrCat("cannot create files in ", existing.string(), " (",
                               std::strerror(err), ")"));
  }
  close(fd);
  unlink(probe.c_str());
  return absl::OkStatus();
}

}  // namespace affinity::storage
