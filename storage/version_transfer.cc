#include "storage/version_transfer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/version_clearing.h"
#include "storage/model_store.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBatchBytes = size_t{4} << 20;
// The backup's application metadata: identifies an export and its version.
constexpr absl::string_view kAppMetadataPrefix = "affinity model version ";

// Where ModelStore::Open keeps the model store of `dir`.
std::string ModelsPath(const std::string& dir) { return dir + "/models"; }

RocksTuning ScratchTuning() {
  RocksTuning tuning;
  tuning.block_cache_bytes = size_t{8} << 20;
  tuning.background_jobs = 2;
  return tuning;
}

absl::Status DataLoss(const std::string& where, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(where, ": ", what));
}

// Removes a directory tree when it goes out of scope, unless released.
class ScopedRemoval {
 public:
  explicit ScopedRemoval(std::string path) : path_(std::move(path)) {}
  ~ScopedRemoval() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScopedRemoval(const ScopedRemoval&) = delete;
  ScopedRemoval& operator=(const ScopedRemoval&) = delete;
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// Empties an export directory that existed (empty) before a failed export.
class ScopedEmptying {
 public:
  explicit ScopedEmptying(std::string path) : path_(std::move(path)) {}
  ~ScopedEmptying() {
    if (path_.empty()) return;
    std::error_code ec;
    for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code remove_ec;
      fs::remove_all(it->path(), remove_ec);
    }
  }
  ScopedEmptying(const ScopedEmptying&) = delete;
  ScopedEmptying& operator=(const ScopedEmptying&) = delete;
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// A new directory beside `path`, named after it: PARENT/.NAME.TAG-XXXXXX.
absl::StatusOr<std::string> MakeSiblingDir(const std::string& path, absl::string_view tag) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  fs::path parent = p.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create directory ", parent.string(), ": ", ec.message()));
  }
  std::string pattern =
      (parent / absl::StrCat(".", p.filename().string(), ".", tag, "-XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create a directory like ", pattern));
  }
  return std::string(buffer.data());
}

// What one version's data records hold, counted by kind.
struct Census {
  uint64_t items = 0;
  uint64_t users = 0;
  uint64_t popular = 0;
  uint64_t index_records = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;

  // False for a key that is not an item, user, popular-items or index key.
  bool Count(uint64_t version, absl::string_view key, absl::string_view value) {
    if (keys::ParseItem(version, key).has_value()) {
      ++items;
    } else if (keys::ParseUser(version, key).has_value()) {
      ++users;
    } else if (key == keys::Popular(version)) {
      ++popular;
    } else if (keys::ParseIndex(version, key).has_value()) {
      ++index_records;  // index headers and chunks travel with their version
    } else {
      return false;
    }
    ++records;
    bytes += key.size() + value.size();
    return true;
  }

  absl::Status CheckComplete(const affinity::v1::ModelMetadata& metadata,
                             const std::string& where) const {
    if (items == static_cast<uint64_t>(metadata.items()) &&
        users == static_cast<uint64_t>(metadata.users()) && popular == 1) {
      return absl::OkStatus();
    }
    return DataLoss(where, absl::StrCat("version ", metadata.version(), " has ", items,
                                        " items, ", users, " users and ", popular,
                                        " popular lists, expected ", metadata.items(), ", ",
                                        metadata.users(), " and 1 as its metadata says"));
  }
};

using RecordFn = std::function<absl::Status(absl::string_view key, absl::string_view value)>;

// Calls fn for every key in [begin, end) of db, in order.
absl::Status Scan(rocksdb::DB* db, const std::string& begin, const std::string& end,
                  const std::string& where, const RecordFn& fn) {
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = end.empty() ? nullptr : &upper;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    absl::Status s = fn(absl::string_view(it->key().data(), it->key().size()),
                        absl::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), absl::StrCat("reading ", where));
}

std::function<void()>& ImportClearedHook() {
  static auto* hook = new std::function<void()>();
  return *hook;
}

// Writes records in batches without the WAL: durable only after a flush.
// With a pace (bytes per second, 0: none), each batch waits until the bytes
// written so far are due at that pace.
class BatchWriter {
 public:
  BatchWriter(rocksdb::DB* db, std::string where, uint64_t bytes_per_s = 0)
      : db_(db), where_(std::move(where)), bytes_per_s_(bytes_per_s) {}

  absl::Status Put(absl::string_view key, absl::string_view value) {
    batch_.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()))
        .PermitUncheckedError();
    if (batch_.GetDataSize() < kBatchBytes) return absl::OkStatus();
    return Commit();
  }

  absl::Status Commit() {
    if (batch_.Count() == 0) return absl::OkStatus();
    rocksdb::WriteOptions options;
    options.disableWAL = true;
    rocksdb::Status status = db_->Write(options, &batch_);
    written_ += batch_.GetDataSize();
    batch_.Clear();
    if (bytes_per_s_ > 0) {
      std::this_thread::sleep_until(
          start_ + std::chrono::microseconds(written_ * 1000000 / bytes_per_s_));
    }
    return FromRocks(status, absl::StrCat("writing ", where_));
  }

 private:
  rocksdb::DB* db_;
  std::string where_;
  const uint64_t bytes_per_s_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  uint64_t written_ = 0;
  rocksdb::WriteBatch batch_;
};

// The published marker of `version`, or nullopt.
absl::StatusOr<std::optional<std::string>> GetMarker(rocksdb::DB* db, uint64_t version,
                                                     const std::string& where) {
  std::string value;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), keys::Published(version), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("reading version ", version, " in ", where));
  }
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<affinity::v1::ModelMetadata> ParseMarker(const std::string& marker,
                                                        uint64_t version,
                                                        const std::string& where) {
  affinity::v1::ModelMetadata metadata;
  if (!metadata.ParseFromString(marker) || metadata.version() != version) {
    return DataLoss(where, absl::StrCat("the marker of version ", version,
                                        " is not its ModelMetadata"));
  }
  return metadata;
}

// Copies version `version` of `source` (marker and data) into `scratch`,
// checking it is complete.
absl::StatusOr<VersionTransfer> CopyToScratch(rocksdb::DB* source, const std::string& source_path,
                                              uint64_t version, rocksdb::DB* scratch) {
  absl::StatusOr<std::optional<std::string>> marker = GetMarker(source, version, source_path);
  if (!marker.ok()) return marker.status();
  if (!marker->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("version ", version, " is not published in ", source_path));
  }
  absl::StatusOr<affinity::v1::ModelMetadata> metadata =
      ParseMarker(**marker, version, source_path);
  if (!metadata.ok()) return metadata.status();

  BatchWriter writer(scratch, "the export's scratch database");
  Census census;
  absl::Status s = Scan(source, keys::VersionDataBegin(version), keys::VersionDataEnd(version),
                        source_path, [&](absl::string_view key, absl::string_view value) {
                          if (!census.Count(version, key, value)) {
                            return DataLoss(source_path, "unknown key in a version's data");
                          }
                          return writer.Put(key, value);
                        });
  if (!s.ok()) return s;
  if (s = census.CheckComplete(*metadata, source_path); !s.ok()) return s;
  if (s = writer.Put(keys::Published(version), **marker); !s.ok()) return s;
  if (s = writer.Commit(); !s.ok()) return s;

  VersionTransfer transfer;
  transfer.version = version;
  transfer.metadata = *std::move(metadata);
  transfer.records = census.records + 1;
  transfer.bytes = census.bytes + keys::Published(version).size() + (*marker)->size();
  return transfer;
}

absl::Status WriteBackup(rocksdb::DB* scratch, uint64_t version, const std::string& out_dir) {
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus status = rocksdb::BackupEngine::Open(
      rocksdb::BackupEngineOptions(out_dir), rocksdb::Env::Default(), &raw);
  if (!status.ok()) return FromRocks(status, absl::StrCat("opening a backup in ", out_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  status = engine->CreateNewBackupWithMetadata(
      options, scratch, absl::StrCat(kAppMetadataPrefix, version), &id);
  if (!status.ok()) return FromRocks(status, absl::StrCat("writing the backup to ", out_dir));
  return FromRocks(engine->VerifyBackup(id, /*verify_with_checksum=*/true),
                   absl::StrCat("verifying the backup in ", out_dir));
}

// An export opened and verified: its backup id and version.
struct VerifiedExport {
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine;
  rocksdb::BackupID id = 0;
  uint64_t version = 0;
};

// restore_bytes_per_s: the pace of a later restore from it (0: none).
absl::StatusOr<VerifiedExport> OpenExport(const std::string& from_dir,
                                          uint64_t restore_bytes_per_s) {
  std::error_code ec;
  if (!fs::is_directory(from_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(
        from_dir, ": no such directory, expected one written by affinity-train export"));
  }
  if (!fs::is_directory(fs::path(from_dir) / "meta", ec)) {
    return DataLoss(from_dir, "no backup metadata (meta/), expected a directory written by "
                              "affinity-train export");
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::BackupEngineOptions backup_options(from_dir);
  backup_options.restore_rate_limit = restore_bytes_per_s;
  rocksdb::IOStatus status =
      rocksdb::BackupEngineReadOnly::Open(backup_options, rocksdb::Env::Default(), &raw);
  if (!status.ok()) return DataLoss(from_dir, absl::StrCat("not readable as an export: ",
                                                           status.ToString()));
  VerifiedExport result;
  result.engine.reset(raw);
  std::vector<rocksdb::BackupID> corrupt;
  result.engine->GetCorruptedBackups(&corrupt);
  if (!corrupt.empty()) {
    return DataLoss(from_dir, absl::StrCat("backup ", corrupt.front(),
                                           " is corrupted (unreadable or incomplete "
                                           "metadata), expected an intact export"));
  }
  std::vector<rocksdb::BackupInfo> infos;
  result.engine->GetBackupInfo(&infos);
  if (infos.size() != 1) {
    return DataLoss(from_dir, absl::StrCat("holds ", infos.size(),
                                           " backups, expected exactly one exported version"));
  }
  result.id = infos[0].backup_id;
  absl::string_view app = infos[0].app_metadata;
  if (!absl::ConsumePrefix(&app, kAppMetadataPrefix) ||
      !absl::SimpleAtoi(app, &result.version) || result.version == 0) {
    return DataLoss(from_dir, absl::StrCat("backup metadata '", infos[0].app_metadata,
                                           "', expected '", kAppMetadataPrefix, "N'"));
  }
  status = result.engine->VerifyBackup(result.id, /*verify_with_checksum=*/true);
  if (!status.ok()) {
    return DataLoss(from_dir, absl::StrCat("export fails its checksums: ", status.ToString()));
  }
  return result;
}

// Checks that the restored database holds version `version` whole and
// nothing else; returns its marker and transfer figures.
absl::StatusOr<std::pair<std::string, VersionTransfer>> CheckRestored(
    rocksdb::DB* restored, uint64_t version, const std::string& where) {
  absl::StatusOr<std::optional<std::string>> marker = GetMarker(restored, version, where);
  if (!marker.ok()) return DataLoss(where, marker.status().message());
  if (!marker->has_value()) {
    return DataLoss(where, absl::StrCat("no marker of version ", version));
  }
  absl::StatusOr<affinity::v1::ModelMetadata> metadata = ParseMarker(**marker, version, where);
  if (!metadata.ok()) return metadata.status();
  const std::string marker_key = keys::Published(version);
  Census census;
  absl::Status s = Scan(restored, "", "", where, [&](absl::string_view key, absl::string_view value) {
    if (key == marker_key) return absl::OkStatus();
    if (!census.Count(version, key, value)) {
      return DataLoss(where, absl::StrCat("a key outside version ", version));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return absl::DataLossError(s.message());
  if (s = census.CheckComplete(*metadata, where); !s.ok()) return s;
  VersionTransfer transfer;
  transfer.version = version;
  transfer.metadata = *std::move(metadata);
  transfer.records = census.records + 1;
  transfer.bytes = census.bytes + marker_key.size() + (*marker)->size();
  return std::make_pair(**std::move(marker), std::move(transfer));
}

// Copies the checked version from `restored` into `target` (see the header
// for the order of writes).
absl::StatusOr<bool> CopyIntoTarget(rocksdb::DB* restored, RocksDb& target, uint64_t version,
                                    const std::string& marker, uint64_t write_bytes_per_s) {
  const std::string& where = target.path();
  rocksdb::DB* db = target.db();
  absl::MutexLock lock(&target.mutex());
  absl::StatusOr<std::optional<std::string>> existing = GetMarker(db, version, where);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    if (**existing == marker) return true;
    affinity::v1::ModelMetadata present;
    present.ParseFromString(**existing);
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", version, " already exists in ", where, " with other contents (",
        present.algorithm(), ", created at ", present.created_at_unix(),
        "), expected a store without version ", version, " or with the same one"));
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  // Raise the counter first, so that no version created later reuses the number.
  std::string counter;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), keys::NextVersion(), &counter);
  if (!status.ok() && !status.IsNotFound()) {
    return FromRocks(status, absl::StrCat("reading the version counter of ", where));
  }
  const uint64_t next = status.ok() ? keys::DecodeBe64(counter).value_or(1) : 1;
  if (next <= version) {
    if (absl::Status s = FromRocks(
            db->Put(synced, keys::NextVersion(), keys::EncodeBe64(version + 1)),
            absl::StrCat("raising the version counter of ", where));
        !s.ok()) {
      return s;
    }
  }
  // Unpublished leftovers of this number (an interrupted import) go first,
  // only when there are any, without the write-ahead log (version_clearing.h
  // says why: logged, it hid the imported data from running servers).
  const std::string begin = keys::VersionDataBegin(version);
  const std::string end = keys::VersionDataEnd(version);
  bool leftovers = false;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek(begin);
    leftovers = it->Valid() && it->key().compare(rocksdb::Slice(end)) < 0;
    if (absl::Status s = FromRocks(it->status(), absl::StrCat("reading version ", version,
                                                                " in ", where));
        !s.ok()) {
      return s;
    }
  }
  if (leftovers) {
    if (absl::Status s = ClearVersionData(db, version, absl::StrCat("clearing ", where)); !s.ok()) {
      return s;
    }
    if (ImportClearedHook()) ImportClearedHook()();
  }
  BatchWriter writer(db, absl::StrCat("version ", version, " into ", where), write_bytes_per_s);
  absl::Status s = Scan(restored, begin, end, "the restored export",
                        [&](absl::string_view key, absl::string_view value) {
                          return writer.Put(key, value);
                        });
  if (!s.ok()) return s;
  if (s = writer.Commit(); !s.ok()) return s;
  if (s = FlushMemtables(db, where); !s.ok()) return s;
  if (s = FromRocks(db->Put(synced, keys::Published(version), marker),
                    absl::StrCat("publishing version ", version, " in ", where));
      !s.ok()) {
    return s;
  }
  return false;
}

}  // namespace

void SetImportClearedHookForTesting(std::function<void()> hook) {
  ImportClearedHook() = std::move(hook);
}

absl::StatusOr<VersionTransfer> ExportVersion(const std::string& db_dir, uint64_t version,
                                              const std::string& out_dir) {
  if (version == 0) {
    return absl::InvalidArgumentError("version 0: expected a version number >= 1");
  }
  const std::string models = ModelsPath(db_dir);
  std::error_code ec;
  if (!fs::exists(fs::path(models) / "CURRENT", ec)) {
    return NoModelStoreError(db_dir, models);
  }
  const bool out_existed = fs::exists(out_dir, ec);
  if (out_existed && (!fs::is_directory(out_dir, ec) || !fs::is_empty(out_dir, ec))) {
    return absl::FailedPreconditionError(absl::StrCat(
        out_dir, ": exists and is not an empty directory, expected a new or empty one"));
  }
  absl::StatusOr<std::shared_ptr<RocksDb>> source =
      RocksDb::Open(models, RocksDb::Mode::kFollower, ScratchTuning());
  if (!source.ok()) return source.status();

  absl::StatusOr<std::string> scratch_dir = MakeSiblingDir(out_dir, "export");
  if (!scratch_dir.ok()) return scratch_dir.status();
  ScopedRemoval remove_scratch(*scratch_dir);
  absl::StatusOr<std::shared_ptr<RocksDb>> scratch =
      RocksDb::Open(*scratch_dir, RocksDb::Mode::kReadWrite, ScratchTuning());
  if (!scratch.ok()) return scratch.status();

  absl::StatusOr<VersionTransfer> transfer =
      CopyToScratch((*source)->db(), models, version, (*scratch)->db());
  if (!transfer.ok()) return transfer.status();

  fs::create_directories(out_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create directory ", out_dir, ": ", ec.message()));
  }
  ScopedRemoval remove_out(out_existed ? "" : out_dir);
  ScopedEmptying empty_out(out_existed ? out_dir : "");
  if (absl::Status s = WriteBackup((*scratch)->db(), version, out_dir); !s.ok()) return s;
  remove_out.Release();
  empty_out.Release();
  return transfer;
}

absl::StatusOr<VersionTransfer> ImportVersion(const std::string& from_dir,
                                              const std::string& db_dir,
                                              const ImportOptions& import_options) {
  absl::StatusOr<VerifiedExport> exported =
      OpenExport(from_dir, import_options.max_write_bytes_per_s);
  if (!exported.ok()) return exported.status();

  absl::StatusOr<std::string> restore_dir = MakeSiblingDir(db_dir, "import");
  if (!restore_dir.ok()) return restore_dir.status();
  ScopedRemoval remove_restore(*restore_dir);
  rocksdb::IOStatus restored_status = exported->engine->RestoreDBFromBackup(
      rocksdb::RestoreOptions(), exported->id, *restore_dir, *restore_dir);
  if (!restored_status.ok()) {
    return DataLoss(from_dir, absl::StrCat("cannot restore the export: ",
                                           restored_status.ToString()));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options;
  options.paranoid_checks = true;
  rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(options, *restore_dir, &raw);
  if (!opened.ok()) {
    return DataLoss(from_dir, absl::StrCat("the restored export does not open: ",
                                           opened.ToString()));
  }
  std::unique_ptr<rocksdb::DB> restored(raw);

  absl::StatusOr<std::pair<std::string, VersionTransfer>> checked =
      CheckRestored(restored.get(), exported->version, from_dir);
  if (!checked.ok()) return checked.status();
  VersionTransfer transfer = std::move(checked->second);

  absl::StatusOr<std::shared_ptr<RocksDb>> target =
      RocksDb::Open(ModelsPath(db_dir), RocksDb::Mode::kReadWrite, RocksTuning());
  if (!target.ok()) return target.status();
  absl::StatusOr<bool> present =
      CopyIntoTarget(restored.get(), **target, transfer.version, checked->first,
                     import_options.max_write_bytes_per_s);
  if (!present.ok()) return present.status();
  transfer.already_present = *present;
  return transfer;
}

}  // namespace affinity::storage
