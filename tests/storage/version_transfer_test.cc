// Shipping a version between stores: what is imported reads back
// bit-identical to what was exported, keeps its number (and later versions
// do not reuse it), a damaged export is refused before anything is written,
// importing twice is a no-op and a conflicting version is refused.
#include "storage/version_transfer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

namespace fs = std::filesystem;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using testing::MakeTestDir;
using testing::RawKeys;
using testing::SmallModel;

std::unique_ptr<ModelStore> OpenStore(const std::string& dir) {
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<uint64_t> Versions(ModelStore& store) {
  std::vector<uint64_t> versions;
  auto list = store.ListVersions();
  EXPECT_TRUE(list.ok()) << list.status();
  if (list.ok()) {
    for (const VersionInfo& v : *list) versions.push_back(v.version);
  }
  return versions;
}

// Every key of a store's database (the store must be closed).
std::vector<std::string> AllKeys(const std::string& dir) {
  return RawKeys(dir + "/models", "", std::string(1, '\xff'));
}

// Regular files under `dir`, recursively.
std::vector<fs::path> FilesUnder(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

class VersionTransferTest : public ::testing::Test {
 protected:
  // Store A holds versions 1, 2 and 3.
  void SetUp() override {
    a_ = MakeTestDir();
    std::unique_ptr<ModelStore> store = OpenStore(a_);
    ASSERT_NE(store, nullptr);
    for (uint32_t seed : {11, 12, 13}) {
      models_.push_back(SmallModel::Make(40, 25, 6, seed));
      ASSERT_EQ(testing::PublishModel(*store, models_.back()), models_.size());
    }
  }

  std::string Export(uint64_t version) {
    const std::string out = MakeTestDir() + "/export";
    absl::StatusOr<VersionTransfer> t = ExportVersion(a_, version, out);
    EXPECT_TRUE(t.ok()) << t.status();
    return out;
  }

  affinity::v1::ModelMetadata MetadataInA(uint64_t version) {
    std::unique_ptr<ModelStore> store = OpenStore(a_);
    auto reader = store->OpenVersion(version);
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? (*reader)->metadata() : affinity::v1::ModelMetadata();
  }

  std::string a_;
  std::vector<SmallModel> models_;
};

// Paced, the import writes the same version, and cannot be done before its
// bytes are due at the pace (the records' bytes alone, written in paced
// batches; the restore is paced too).
TEST_F(VersionTransferTest, PacedImportWritesTheSameVersionAtItsPace) {
  const std::string out = MakeTestDir() + "/export";
  absl::StatusOr<VersionTransfer> exported = ExportVersion(a_, 2, out);
  ASSERT_TRUE(exported.ok()) << exported.status();
  ImportOptions paced;
  // The records' bytes over 0.3 s.
  paced.max_write_bytes_per_s = std::max<uint64_t>(1, exported->bytes * 10 / 3);
  const std::string b = MakeTestDir() + "/replica";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<VersionTransfer> imported = ImportVersion(out, b, paced);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->records, exported->records);
  EXPECT_GE(seconds, 0.3 * 0.9);  // a lower bound set by the pacing, not a speed target
  std::unique_ptr<ModelStore> store = OpenStore(b);
  ASSERT_NE(store, nullptr);
  auto reader = store->OpenVersion(2);
  ASSERT_TRUE(reader.ok()) << reader.status();
  testing::ExpectModelEquals(models_[1], **reader);
  EXPECT_EQ(RawKeys(b + "/models", keys::VersionDataBegin(2), keys::VersionDataEnd(2)),
            RawKeys(a_ + "/models", keys::VersionDataBegin(2), keys::VersionDataEnd(2)));
}

TEST_F(VersionTransferTest, ImportedVersionReadsBackBitIdentical) {
  const std::string out = MakeTestDir() + "/export";
  absl::StatusOr<VersionTransfer> exported = ExportVersion(a_, 2, out);
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->version, 2u);
  EXPECT_EQ(exported->records, 40u + 25u + 1u + 1u);  // users, items, popular, marker
  EXPECT_TRUE(MessageDifferencer::Equals(exported->metadata, MetadataInA(2)));
  // RocksDB's backup layout, and no scratch database left beside it.
  EXPECT_TRUE(fs::exists(out + "/meta/1"));
  EXPECT_TRUE(fs::is_directory(out + "/private/1"));
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(out).parent_path()),
                          fs::directory_iterator()),
            1);

  const std::string b = MakeTestDir() + "/replica";
  absl::StatusOr<VersionTransfer> imported = ImportVersion(out, b);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->version, 2u);
  EXPECT_FALSE(imported->already_present);
  EXPECT_EQ(imported->records, exported->records);
  EXPECT_EQ(imported->bytes, exported->bytes);
  // No restore directory left beside the store.
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(b).parent_path()),
                          fs::directory_iterator()),
            1);
  {
    std::unique_ptr<ModelStore> store = OpenStore(b);
    ASSERT_NE(store, nullptr);
    auto list = store->ListVersions();
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].version, 2u);
    EXPECT_TRUE(MessageDifferencer::Equals((*list)[0].metadata, MetadataInA(2)));
    auto reader = store->OpenVersion(2);
    ASSERT_TRUE(reader.ok()) << reader.status();
    testing::ExpectModelEquals(models_[1], **reader);
    auto live = store->LiveVersion();
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*live, 2u);
  }
  // The same keys as version 2 in A, and only those (no pin, no other version).
  const std::vector<std::string> data_a =
      RawKeys(a_ + "/models", keys::VersionDataBegin(2), keys::VersionDataEnd(2));
  EXPECT_EQ(RawKeys(b + "/models", keys::VersionDataBegin(2), keys::VersionDataEnd(2)), data_a);
  std::vector<std::string> expected = data_a;
  expected.push_back(keys::NextVersion());
  expected.push_back(keys::Published(2));
  EXPECT_EQ(AllKeys(b), expected);

  // The counter moved past the imported number (so even if version 2 is
  // deleted later, 2 is never handed out again).
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), b + "/models", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string counter;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), keys::NextVersion(), &counter).ok());
    EXPECT_EQ(keys::DecodeBe64(counter), std::optional<uint64_t>(3));
  }
  std::unique_ptr<ModelStore> store = OpenStore(b);
  auto writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->version(), 3u);
}

TEST_F(VersionTransferTest, AnIndexStoredWithTheVersionTravelsWithIt) {
  affinity::v1::IndexHeader header;
  header.set_kind("hnsw");
  header.set_params("M=4");
  header.set_items(25);
  header.set_dims(6);
  header.set_vectors_sha256(ItemVectorsSha256(models_[1].item_factors));
  const std::string blob(10000, 'g');
  {
    std::unique_ptr<ModelStore> store = OpenStore(a_);
    std::unique_ptr<IndexWriter> writer = *store->CreateIndexWriter(2, header);
    ASSERT_TRUE(writer->Append(blob).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  const std::string b = MakeTestDir();
  absl::StatusOr<VersionTransfer> imported = ImportVersion(Export(2), b);
  ASSERT_TRUE(imported.ok()) << imported.status();
  std::unique_ptr<ModelStore> store = OpenStore(b);
  auto reader = store->OpenVersion(2);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto index = (*reader)->OpenIndex("hnsw", "M=4");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->header().vectors_sha256(), header.vectors_sha256());
  std::string read(blob.size(), '\0');
  ASSERT_TRUE((*index)->Read(absl::MakeSpan(read)).ok());
  EXPECT_TRUE((*index)->Finish().ok());
  EXPECT_EQ(read, blob);
}

TEST_F(VersionTransferTest, ImportKeepsTheNumberBesideTheStoresOwnVersions) {
  const std::string b = MakeTestDir();
  const SmallModel own = SmallModel::Make(10, 8, 6, 21);
  {
    std::unique_ptr<ModelStore> store = OpenStore(b);
    ASSERT_EQ(testing::PublishModel(*store, own), 1u);
  }
  ASSERT_TRUE(ImportVersion(Export(3), b).ok());
  std::unique_ptr<ModelStore> store = OpenStore(b);
  EXPECT_EQ(Versions(*store), (std::vector<uint64_t>{1, 3}));
  auto reader = store->OpenVersion(3);
  ASSERT_TRUE(reader.ok());
  testing::ExpectModelEquals(models_[2], **reader);
  reader = store->OpenVersion(1);
  ASSERT_TRUE(reader.ok());
  testing::ExpectModelEquals(own, **reader);
  EXPECT_EQ(*store->LiveVersion(), 3u);
  auto writer = store->CreateVersion();
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->version(), 4u);
}

// A server follows the store (a RocksDB secondary instance) while a
// version is imported: after its next Refresh it reads the whole version.
// (The failure this guards against needed the follower to catch up between
// the import's range deletion and its flush, which this test does not force:
// `PUBLISH=import tools/bench_swaps.sh` at 100,000 items reproduced it.)
TEST_F(VersionTransferTest, AFollowerOpenBeforeTheImportReadsTheImportedVersion) {
  const std::string b = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenStore(b);
    ASSERT_EQ(testing::PublishModel(*store, SmallModel::Make(10, 8, 6, 21)), 1u);
  }
  auto follower = ModelStore::Open(b, ModelStore::Mode::kFollower);
  ASSERT_TRUE(follower.ok()) << follower.status();
  ASSERT_TRUE(ImportVersion(Export(3), b).ok());
  ASSERT_TRUE((*follower)->Refresh().ok());
  EXPECT_EQ(Versions(**follower), (std::vector<uint64_t>{1, 3}));
  auto reader = (*follower)->OpenVersion(3);
  ASSERT_TRUE(reader.ok()) << reader.status();
  testing::ExpectModelEquals(models_[2], **reader);
}

// The same after an interrupted import left unpublished data of the
// version behind, which the next import clears first, with the follower
// catching up in between. (A follower reads its replay of the write-ahead
// log before newer files written without it: a range deletion logged there
// hid the imported data, and the version failed to load.)
TEST_F(VersionTransferTest, AFollowerReadsAVersionImportedOverLeftovers) {
  const std::string b = MakeTestDir();
  {
    std::unique_ptr<ModelStore> store = OpenStore(b);
    ASSERT_EQ(testing::PublishModel(*store, SmallModel::Make(10, 8, 6, 21)), 1u);
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), b + "/models", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    // As an import writes them: without the write-ahead log, then flushed.
    rocksdb::WriteOptions no_wal;
    no_wal.disableWAL = true;
    ASSERT_TRUE(db->Put(no_wal, keys::Item(3, 0), "left over").ok());
    ASSERT_TRUE(db->Put(no_wal, keys::User(3, "u"), "left over").ok());
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  }
  auto follower = ModelStore::Open(b, ModelStore::Mode::kFollower);
  ASSERT_TRUE(follower.ok()) << follower.status();
  // The server polls between the clearing and the data.
  int hook_calls = 0;
  SetImportClearedHookForTesting([&] {
    ++hook_calls;
    EXPECT_TRUE((*follower)->Refresh().ok());
  });
  absl::StatusOr<VersionTransfer> imported = ImportVersion(Export(3), b);
  SetImportClearedHookForTesting(nullptr);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(hook_calls, 1) << "the import should have found the leftovers";
  ASSERT_TRUE((*follower)->Refresh().ok());
  EXPECT_EQ(Versions(**follower), (std::vector<uint64_t>{1, 3}));
  auto reader = (*follower)->OpenVersion(3);
  ASSERT_TRUE(reader.ok()) << reader.status();
  testing::ExpectModelEquals(models_[2], **reader);
}

TEST_F(VersionTransferTest, ImportingTwiceIsANoOp) {
  const std::string out = Export(1);
  const std::string b = MakeTestDir();
  ASSERT_TRUE(ImportVersion(out, b).ok());
  const std::vector<std::string> before = AllKeys(b);
  absl::StatusOr<VersionTransfer> again = ImportVersion(out, b);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_present);
  EXPECT_EQ(again->version, 1u);
  EXPECT_EQ(AllKeys(b), before);
  std::unique_ptr<ModelStore> store = OpenStore(b);
  EXPECT_EQ(Versions(*store), (std::vector<uint64_t>{1}));
}

TEST_F(VersionTransferTest, ConflictingVersionIsRefused) {
  const std::string b = MakeTestDir();
  const SmallModel own = SmallModel::Make(10, 8, 6, 22);
  {
    std::unique_ptr<ModelStore> store = OpenStore(b);
    ASSERT_EQ(testing::PublishModel(*store, SmallModel::Make(10, 8, 6, 21)), 1u);
    ASSERT_EQ(testing::PublishModel(*store, own), 2u);
  }
  const std::vector<std::string> before = AllKeys(b);
  absl::StatusOr<VersionTransfer> t = ImportVersion(Export(2), b);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("version 2 already exists in " + b));
  EXPECT_EQ(AllKeys(b), before);
  std::unique_ptr<ModelStore> store = OpenStore(b);
  auto reader = store->OpenVersion(2);
  ASSERT_TRUE(reader.ok());
  testing::ExpectModelEquals(own, **reader);
}

// Where to flip a byte of an exported file: its first, middle and last
// byte. The backup's meta file starts with the backup's time and sequence
// number, which RocksDB does not checksum and which hold no model data; its
// checksummed part (the application metadata naming the version, the file
// list and each file's CRC-32C) is flipped instead.
std::vector<uint64_t> FlipOffsets(const fs::path& file) {
  const uint64_t size = fs::file_size(file);
  if (file.parent_path().filename() != "meta") return {0, size / 2, size - 1};
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t app = text.find("metadata ");
  EXPECT_NE(app, std::string::npos);
  return {app + 12, size / 2, size - 2};
}

TEST_F(VersionTransferTest, AFlippedByteInAnyExportedFileIsDetected) {
  const std::string out = Export(2);
  const std::vector<fs::path> files = FilesUnder(out);
  ASSERT_GE(files.size(), 5u);  // meta, CURRENT, MANIFEST, OPTIONS, table files
  for (const fs::path& file : files) {
    const fs::path name = fs::relative(file, out);
    for (uint64_t offset : FlipOffsets(file)) {
      const std::string copy = MakeTestDir() + "/export";
      fs::copy(out, copy, fs::copy_options::recursive);
      std::fstream f(fs::path(copy) / name, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(offset);
      const char byte = static_cast<char>(f.get());
      f.seekp(offset);
      f.put(static_cast<char>(byte ^ 0x04));
      f.close();

      const std::string b = MakeTestDir() + "/replica";
      absl::StatusOr<VersionTransfer> t = ImportVersion(copy, b);
      ASSERT_FALSE(t.ok()) << "undetected flip at " << offset << " of " << name;
      EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << name << ": " << t.status();
      EXPECT_FALSE(fs::exists(b + "/models")) << name;
    }
  }
}

TEST_F(VersionTransferTest, TruncatedOrIncompleteExportIsRefused) {
  const std::string out = Export(2);
  fs::path largest;
  for (const fs::path& file : FilesUnder(out)) {
    if (largest.empty() || fs::file_size(file) > fs::file_size(largest)) largest = file;
  }
  for (bool remove : {false, true}) {
    const std::string copy = MakeTestDir() + "/export";
    fs::copy(out, copy, fs::copy_options::recursive);
    const fs::path target = fs::path(copy) / fs::relative(largest, out);
    if (remove) {
      fs::remove(target);
    } else {
      fs::resize_file(target, fs::file_size(target) / 2);
    }
    const std::string b = MakeTestDir() + "/replica";
    absl::StatusOr<VersionTransfer> t = ImportVersion(copy, b);
    ASSERT_FALSE(t.ok()) << (remove ? "removed " : "truncated ") << largest;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << t.status();
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(copy));
    EXPECT_FALSE(fs::exists(b + "/models"));
  }
  // A directory without backups (its meta/ emptied), an empty one and a
  // missing one.
  const std::string no_backup = MakeTestDir() + "/export";
  fs::copy(out, no_backup, fs::copy_options::recursive);
  fs::remove(no_backup + "/meta/1");
  absl::StatusOr<VersionTransfer> none = ImportVersion(no_backup, MakeTestDir());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr(no_backup + ": holds 0 backups, expected exactly one"));
  const std::string empty = MakeTestDir();
  absl::StatusOr<VersionTransfer> t = ImportVersion(empty, MakeTestDir());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(empty + ": no backup metadata (meta/), expected a directory written by "
                        "affinity-train export"));
  t = ImportVersion(empty + "/nope", MakeTestDir());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(VersionTransferTest, ExportErrorsLeaveNothingBehind) {
  const std::string parent = MakeTestDir();
  const std::string out = parent + "/export";
  absl::StatusOr<VersionTransfer> t = ExportVersion(a_, 9, out);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("version 9 is not published"));
  EXPECT_TRUE(fs::is_empty(parent));  // neither OUT nor a scratch database

  EXPECT_EQ(ExportVersion(a_, 0, out).status().code(), absl::StatusCode::kInvalidArgument);
  t = ExportVersion(parent + "/no-store", 1, out);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("no model store at " + parent + "/no-store"));

  fs::create_directories(out);
  std::ofstream(out + "/keep") << "x";
  t = ExportVersion(a_, 1, out);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(out + ": exists and is not an empty directory"));
  EXPECT_EQ(FilesUnder(out).size(), 1u);

  // An existing empty directory is fine.
  fs::remove(out + "/keep");
  EXPECT_TRUE(ExportVersion(a_, 1, out).ok());
}

}  // namespace
}  // namespace affinity::storage
