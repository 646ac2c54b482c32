#include "storage/rocks_db.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

rocksdb::Options MakeOptions(const RocksTuning& tuning) {
  rocksdb::Options options;
  options.create_if_missing = tuning.create_if_missing;
  options.IncreaseParallelism(tuning.background_jobs);
  options.max_background_jobs = tuning.background_jobs;
  options.write_buffer_size = tuning.write_buffer_bytes;
  options.max_write_buffer_number = 4;
  options.target_file_size_base = tuning.write_buffer_bytes;
  options.max_bytes_for_level_base = tuning.write_buffer_bytes * 8;
  // Factor vectors are float noise to a compressor; reads stay cheaper
  // without decompression.
  options.compression = rocksdb::kNoCompression;
  options.level0_slowdown_writes_trigger = 40;
  options.level0_stop_writes_trigger = 60;
  options.max_open_files = -1;  // required by secondary instances
  options.keep_log_file_num = 5;
  options.max_log_file_size = size_t{16} << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(tuning.block_cache_bytes);
  table.filter_policy.reset(
      rocksdb::NewBloomFilterPolicy(tuning.bloom_bits_per_key, false));
  table.block_size = 16 * 1024;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

constexpr char kPrivateDirPrefix[] = "affinity-follower-";
constexpr char kOwnerFile[] = "owner";

std::string TmpRoot() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp && *tmp) ? tmp : "/tmp";
}

// Removes the private directories under `root` whose owner has ended: their
// owner file is not locked any more (the kernel drops a process's locks when
// it ends, however it ends). Directories without an owner file (being
// created, or left by older versions) and other users' are left alone.
void RemoveStaleFollowerDirs(const std::string& root) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrivateDirPrefix, 0) != 0) continue;
    std::error_code e;
    if (!entry.is_directory(e)) continue;
    const std::string owner = (entry.path() / kOwnerFile).string();
    const int fd = open(owner.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) std::filesystem::remove_all(entry.path(), e);
    close(fd);
  }
}

}  // namespace

// A fresh directory under $TMPDIR holding a locked owner file (the pid, for
// people) for as long as `lock_fd` stays open.
absl::StatusOr<RocksDb::PrivateDir> RocksDb::MakePrivateDir() {
  const std::string root = TmpRoot();
  RemoveStaleFollowerDirs(root);
  std::string pattern = absl::StrCat(root, "/", kPrivateDirPrefix, "XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a follower directory like ", pattern));
  }
  PrivateDir dir{std::string(buffer.data()), -1};
  // Locked under another name, then renamed: a cleaner never sees an owner
  // file that is not locked yet.
  const std::string pending = absl::StrCat(dir.path, "/", kOwnerFile, ".new");
  const std::string owner = absl::StrCat(dir.path, "/", kOwnerFile);
  dir.lock_fd = open(pending.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const std::string pid = absl::StrCat("pid ", getpid(), "\n");
  if (dir.lock_fd < 0 || flock(dir.lock_fd, LOCK_EX) != 0 ||
      write(dir.lock_fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()) ||
      rename(pending.c_str(), owner.c_str()) != 0) {
    const int error = errno;
    if (dir.lock_fd >= 0) close(dir.lock_fd);
    std::error_code ec;
    std::filesystem::remove_all(dir.path, ec);
    return absl::UnavailableError(absl::StrCat("cannot create the owner file of ", dir.path,
                                               ": ", std::strerror(error)));
  }
  return dir;
}

namespace {

// Creates the database at `path` if it does not exist yet. Losing a race
// with another process creating it is fine.
absl::Status EnsureExists(const std::string& path, const rocksdb::Options& options) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    return absl::OkStatus();
  }
  std::filesystem::create_directories(path, ec);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, path, &raw);
  delete raw;
  if (!status.ok() &&
      !std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    return FromRocks(status, absl::StrCat("creating ", path));
  }
  return absl::OkStatus();
}

// RocksDB reports a database another process has open for writing as an
// IO error on its LOCK file.
// RocksDB's words for a LOCK file another process (or this one) holds, as
// opposed to one it cannot open ("While open a file for lock": a read-only
// file system, missing permissions).
bool IsLockHeld(const rocksdb::Status& status) {
  if (!status.IsIOError()) return false;
  const std::string message = status.ToString();
  return message.find("While lock file") != std::string::npos ||
         message.find("lock hold by current process") != std::string::npos;
}

}  // namespace

absl::StatusOr<std::shared_ptr<RocksDb>> RocksDb::Open(const std::string& path,
                                                       Mode mode,
                                                       const RocksTuning& tuning) {
  return OpenWithOptions(path, mode, MakeOptions(tuning), tuning.lock_wait_ms);
}

absl::StatusOr<std::shared_ptr<RocksDb>> RocksDb::OpenWithOptions(const std::string& path,
                                                                  Mode mode,
                                                                  rocksdb::Options options,
                                                                  int lock_wait_ms) {
  std::shared_ptr<RocksDb> handle(new RocksDb(path, mode));
  rocksdb::DB* raw = nullptr;
  if (!options.create_if_missing) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
      return absl::NotFoundError(absl::StrCat("no database at ", path));
    }
  }
  if (mode == Mode::kReadWrite) {
    std::error_code ec;
    if (options.create_if_missing) std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create directory ", path, ": ", ec.message()));
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(lock_wait_ms);
    rocksdb::Status status = rocksdb::DB::Open(options, path, &raw);
    while (IsLockHeld(status) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      status = rocksdb::DB::Open(options, path, &raw);
    }
    if (IsLockHeld(status)) {
      return absl::UnavailableError(absl::StrCat(
          path, " is open for writing by another process (a trainer publishing or an admin "
          "command); waited ", lock_wait_ms, " ms, retry later"));
    }
    if (status.IsIOError()) {
      // Not a lock another process holds (that is Unavailable above): a
      // read-only file system, missing permissions, a full disk.
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open ", path, " for writing: ", status.ToString()));
    }
    if (!status.ok()) return FromRocks(status, absl::StrCat("opening ", path));
  } else {
    if (options.create_if_missing) {
      absl::Status exists = EnsureExists(path, options);
      if (!exists.ok()) return exists;
    }
    absl::StatusOr<PrivateDir> dir = MakePrivateDir();
    if (!dir.ok()) return dir.status();
    handle->secondary_dir_ = dir->path;
    handle->secondary_lock_fd_ = dir->lock_fd;
    options.create_if_missing = false;
    // Every catch-up (TryCatchUpWithPrimary) opens the new table files with
    // this many threads, starting all but one of them each time whether or
    // not a file is new: with the default 16, a server polling every 250 ms
    // started and ended 60 threads a second beside its request threads. On
    // the calling (polling) thread alone instead.
    options.max_file_opening_threads = 1;
    rocksdb::Status status =
        rocksdb::DB::OpenAsSecondary(options, path, handle->secondary_dir_, &raw);
    if (!status.ok()) {
      return FromRocks(status, absl::StrCat("opening ", path, " as a follower"));
    }
  }
  handle->db_.reset(raw);
  // A secondary instance does not read its identity: take the file's (the
  // same file RocksDB's GetDbIdentity reads), as CheckSameDatabase does.
  const std::optional<std::string> identity = ReadDbIdentity(path);
  if (!identity.has_value() || identity->empty()) {
    return absl::DataLossError(absl::StrCat(path, ": no IDENTITY file, expected RocksDB's"));
  }
  handle->identity_ = *identity;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    handle->dir_device_ = st.st_dev;
    handle->dir_inode_ = st.st_ino;
  }
  return handle;
}

absl::Status FlushMemtables(rocksdb::DB* db, absl::string_view where) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  return FromRocks(db->Flush(flush), absl::StrCat("flushing ", where));
}

std::optional<std::string> ReadDbIdentity(const std::string& path) {
  std::ifstream in(std::filesystem::path(path) / "IDENTITY", std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream contents;
  contents << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(contents.str()));
}

absl::Status RocksDb::CheckSameDatabase() const {
  struct stat st;
  const bool exists = stat(path_.c_str(), &st) == 0;
  const bool same_dir = exists && st.st_dev == dir_device_ && st.st_ino == dir_inode_;
  const std::optional<std::string> now = exists ? ReadDbIdentity(path_) : std::nullopt;
  if (same_dir && now.has_value() && *now == identity_) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      path_, ": the database was deleted", now.has_value() ? " and created again" : "",
      " since this process opened it (identity ", identity_, ", now ",
      now.has_value() ? *now : "none", same_dir || !exists ? "" : ", in a new directory",
      "); what was read from it stays available, nothing more is read from the directory; "
      "restart to use the database now there"));
}

RocksDb::~RocksDb() {
  if (db_ != nullptr) {
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
  if (secondary_lock_fd_ >= 0) close(secondary_lock_fd_);
}

absl::Status RocksDb::Refresh() {
  if (mode_ != Mode::kFollower) return absl::OkStatus();
  // Catching up with the files of another database than the one opened
  // fails an assertion inside RocksDB: check first, and for good. (A
  // deletion racing with the catch-up itself is not covered.)
  absl::MutexLock lock(&refresh_mutex_);
  if (!stopped_.ok()) return stopped_;  // the same error every time
  if (absl::Status same = CheckSameDatabase(); !same.ok()) {
    stopped_ = same;
    return same;
  }
  return FromRocks(db_->TryCatchUpWithPrimary(),
                   absl::StrCat("catching up with ", path_));
}

}  // namespace affinity::storage
