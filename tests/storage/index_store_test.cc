// Index blobs stored with a model version: written with the version (visible
// only once it is published) or added to a published one (visible once the
// header is written), read back byte-exactly through chunk boundaries,
// checked against their SHA-256, replaced, abandoned, removed after a
// writer died, deleted with the version and seen by followers.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/model_store.h"
#include "tests/storage/model_fixture.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using ::affinity::storage::testing::MakeTestDir;
using ::affinity::storage::testing::PublishModel;
using ::affinity::storage::testing::RawKeys;
using ::affinity::storage::testing::SmallModel;
using ::affinity::storage::testing::WriteModel;
using ::testing::HasSubstr;

// Chunks of 10 bytes, so that every blob spans several.
ModelStoreOptions SmallChunks() {
  ModelStoreOptions options;
  options.write_batch_bytes = 10;
  return options;
}

std::unique_ptr<ModelStore> Open(const std::string& dir,
                                 ModelStore::Mode mode = ModelStore::Mode::kReadWrite) {
  absl::StatusOr<std::unique_ptr<ModelStore>> store = ModelStore::Open(dir, mode, SmallChunks());
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

affinity::v1::IndexHeader Header(const SmallModel& model, const std::string& params = "M=4") {
  affinity::v1::IndexHeader header;
  header.set_kind("hnsw");
  header.set_params(params);
  header.set_format("test-1");
  header.set_items(static_cast<int64_t>(model.item_ids.size()));
  header.set_dims(model.dims);
  header.set_vectors_sha256(ItemVectorsSha256(model.item_factors));
  return header;
}

// A blob of `size` bytes that differs with `seed`.
std::string Blob(size_t size, int seed) {
  std::string blob(size, '\0');
  for (size_t i = 0; i < size; ++i) blob[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
  return blob;
}

// Appends `blob` in pieces of 7 bytes (not aligned with the chunks).
absl::StatusOr<affinity::v1::IndexHeader> WriteBlob(IndexWriter& writer, const std::string& blob) {
  for (size_t at = 0; at < blob.size(); at += 7) {
    if (absl::Status s = writer.Append(absl::string_view(blob).substr(at, 7)); !s.ok()) return s;
  }
  return writer.Commit();
}

// The whole blob, read in pieces of 3 bytes and checked by Finish.
absl::StatusOr<std::string> ReadBlob(const ModelVersionReader& version, const std::string& params) {
  absl::StatusOr<std::unique_ptr<IndexReader>> reader = version.OpenIndex("hnsw", params);
  if (!reader.ok()) return reader.status();
  std::string out((*reader)->header().blob_bytes(), '\0');
  for (size_t at = 0; at < out.size(); at += 3) {
    const size_t n = std::min<size_t>(3, out.size() - at);
    if (absl::Status s = (*reader)->Read(absl::MakeSpan(out.data() + at, n)); !s.ok()) return s;
  }
  if (absl::Status s = (*reader)->Finish(); !s.ok()) return s;
  return out;
}

std::vector<std::string> IndexKeys(const std::string& dir, uint64_t version) {
  const std::string prefix = keys::IndexPrefix(version);
  return RawKeys(dir + "/models", prefix, keys::PrefixEnd(prefix));
}

// Runs `edit` on the raw database (the store must be closed).
void EditRaw(const std::string& dir, const std::function<void(rocksdb::DB&)>& edit) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(rocksdb::Options(), dir + "/models", &raw);
  ASSERT_TRUE(status.ok()) << status.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  edit(*db);
}

TEST(ItemVectorsSha256Test, IsSha256OfTheLittleEndianFloats) {
  EXPECT_EQ(absl::BytesToHexString(ItemVectorsSha256({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // SHA-256 of the bytes 00 00 80 3f (1.0f), as `printf '\x00\x00\x80\x3f' | sha256sum`.
  const float one[] = {1.0f};
  EXPECT_EQ(absl::BytesToHexString(ItemVectorsSha256(one)),
            "e00e5eb9444182f352323374ef4e08ebcb784725fdd4fd612d7730540b3e0c8c");
}

TEST(IndexStoreTest, WrittenWithTheVersionAndVisibleOnlyOncePublished) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  const std::string blob = Blob(95, 1);
  std::unique_ptr<ModelStore> store = Open(dir);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<ModelStore> follower = Open(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  std::unique_ptr<VersionWriter> version = *store->CreateVersion();
  ASSERT_TRUE(WriteModel(model, *version).ok());
  absl::StatusOr<std::unique_ptr<IndexWriter>> index = version->CreateIndexWriter(Header(model));
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<affinity::v1::IndexHeader> committed = WriteBlob(**index, blob);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->blob_bytes(), 95u);
  EXPECT_EQ(committed->chunks(), 10u);
  EXPECT_EQ(committed->blob_sha256().size(), 32u);
  EXPECT_NE(committed->generation(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store->OpenVersion(1).status()));
  ASSERT_TRUE(version->Publish(model.Metadata()).ok());

  ASSERT_TRUE(follower->Refresh().ok());
  for (ModelStore* s : {store.get(), follower.get()}) {
    absl::StatusOr<std::unique_ptr<ModelVersionReader>> reader = s->OpenVersion(1);
    ASSERT_TRUE(reader.ok()) << reader.status();
    absl::StatusOr<std::string> read = ReadBlob(**reader, "M=4");
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, blob);
    absl::StatusOr<std::vector<affinity::v1::IndexHeader>> list = (*reader)->ListIndexes();
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].SerializeAsString(), committed->SerializeAsString());
    EXPECT_EQ((*list)[0].vectors_sha256(), ItemVectorsSha256(model.item_factors));
    EXPECT_TRUE(absl::IsNotFound((*reader)->OpenIndex("hnsw", "M=8").status()));
  }
}

TEST(IndexStoreTest, AbandonedWithAnUnpublishedVersion) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  {
    std::unique_ptr<ModelStore> store = Open(dir);
    ASSERT_NE(store, nullptr);
    std::unique_ptr<VersionWriter> version = *store->CreateVersion();
    ASSERT_TRUE(WriteModel(model, *version).ok());
    std::unique_ptr<IndexWriter> index = *version->CreateIndexWriter(Header(model));
    ASSERT_TRUE(WriteBlob(*index, Blob(40, 1)).ok());
  }
  EXPECT_TRUE(IndexKeys(dir, 1).empty());
}

TEST(IndexStoreTest, AddedToAPublishedVersionAndReplaced) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  std::unique_ptr<ModelStore> store = Open(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(PublishModel(*store, model), 1u);
  std::unique_ptr<ModelStore> follower = Open(dir, ModelStore::Mode::kFollower);
  ASSERT_NE(follower, nullptr);
  {
    std::unique_ptr<ModelVersionReader> reader = *store->OpenVersion(1);
    EXPECT_TRUE(absl::IsNotFound(reader->OpenIndex("hnsw", "M=4").status()));
    EXPECT_TRUE(reader->ListIndexes()->empty());
  }

  std::unique_ptr<IndexWriter> first = *store->CreateIndexWriter(1, Header(model));
  ASSERT_TRUE(first->Append(Blob(25, 1)).ok());
  // Not visible before Commit.
  EXPECT_TRUE(absl::IsNotFound((*store->OpenVersion(1))->OpenIndex("hnsw", "M=4").status()));
  ASSERT_TRUE(first->Commit().ok());
  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_EQ(*ReadBlob(**follower->OpenVersion(1), "M=4"), Blob(25, 1));

  // A shorter blob replaces it: nothing of the first remains.
  std::unique_ptr<IndexWriter> second = *store->CreateIndexWriter(1, Header(model));
  absl::StatusOr<affinity::v1::IndexHeader> header = WriteBlob(*second, Blob(12, 2));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(*ReadBlob(**store->OpenVersion(1), "M=4"), Blob(12, 2));
  ASSERT_TRUE(follower->Refresh().ok());
  EXPECT_EQ(*ReadBlob(**follower->OpenVersion(1), "M=4"), Blob(12, 2));
  store.reset();
  follower.reset();
  const std::vector<std::string> stored = IndexKeys(dir, 1);
  ASSERT_EQ(stored.size(), 3u);  // two chunks and the header
  EXPECT_EQ(stored[0], keys::IndexChunk(1, "hnsw", "M=4", header->generation(), 0));
  EXPECT_EQ(stored[1], keys::IndexChunk(1, "hnsw", "M=4", header->generation(), 1));
  EXPECT_EQ(stored[2], keys::IndexHeader(1, "hnsw", "M=4"));
}

TEST(IndexStoreTest, RefusesWhatDoesNotFitTheVersion) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  std::unique_ptr<ModelStore> store = Open(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(PublishModel(*store, model), 1u);
  EXPECT_TRUE(absl::IsNotFound(store->CreateIndexWriter(2, Header(model)).status()));
  affinity::v1::IndexHeader wrong = Header(model);
  wrong.set_items(7);
  absl::Status status = store->CreateIndexWriter(1, wrong).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("expected version 1's 6 x 3"));
  wrong = Header(model, "M=4/ef=3");
  status = store->CreateIndexWriter(1, wrong).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("M=4/ef=3"));
  std::unique_ptr<ModelStore> follower = Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(absl::IsFailedPrecondition(follower->CreateIndexWriter(1, Header(model)).status()));
}

TEST(IndexStoreTest, AnAbandonedWriterLeavesNothing) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  {
    std::unique_ptr<ModelStore> store = Open(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, model), 1u);
    std::unique_ptr<IndexWriter> writer = *store->CreateIndexWriter(1, Header(model));
    ASSERT_TRUE(writer->Append(Blob(45, 1)).ok());
  }
  EXPECT_TRUE(IndexKeys(dir, 1).empty());
}

TEST(IndexStoreTest, ReadWriteOpenRemovesChunksOfADeadWriter) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  uint64_t generation = 0;
  {
    std::unique_ptr<ModelStore> store = Open(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(PublishModel(*store, model), 1u);
    generation = WriteBlob(**store->CreateIndexWriter(1, Header(model, "A")), Blob(15, 1))
                     ->generation();
  }
  // What a writer killed before its header leaves: chunks of index "B" and
  // of another generation of "A".
  EditRaw(dir, [&](rocksdb::DB& db) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), keys::IndexChunk(1, "hnsw", "B", 5, 0), "x").ok());
    ASSERT_TRUE(
        db.Put(rocksdb::WriteOptions(), keys::IndexChunk(1, "hnsw", "A", generation + 1, 0), "y")
            .ok());
  });
  ASSERT_EQ(IndexKeys(dir, 1).size(), 5u);
  {
    std::unique_ptr<ModelStore> follower = Open(dir, ModelStore::Mode::kFollower);
    EXPECT_EQ(*ReadBlob(**follower->OpenVersion(1), "A"), Blob(15, 1));
  }
  Open(dir).reset();
  const std::vector<std::string> stored = IndexKeys(dir, 1);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[2], keys::IndexHeader(1, "hnsw", "A"));
  std::unique_ptr<ModelStore> store = Open(dir);
  EXPECT_EQ(*ReadBlob(**store->OpenVersion(1), "A"), Blob(15, 1));
}

TEST(IndexStoreTest, DamagedBlobsAreDataLoss) {
  const std::string dir = MakeTestDir();
  const SmallModel model = SmallModel::Make(4, 6, 3, 1);
  affinity::v1::IndexHeader header;
  {
    std::unique_ptr<ModelStore> store = Open(dir);
    ASSERT_EQ(PublishModel(*store, model), 1u);
    header = *WriteBlob(**store->CreateIndexWriter(1, Header(model)), Blob(35, 1));
  }
  const std::string chunk1 = keys::IndexChunk(1, "hnsw", "M=4", header.generation(), 1);
  EditRaw(dir, [&](rocksdb::DB& db) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), chunk1, "0123456789").ok());
  });
  {
    std::unique_ptr<ModelStore> store = Open(dir, ModelStore::Mode::kFollower);
    absl::Status status = ReadBlob(**store->OpenVersion(1), "M=4").status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr("blob SHA-256"));
  }
  EditRaw(dir, [&](rocksdb::DB& db) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), chunk1).ok());
  });
  {
    std::unique_ptr<ModelStore> store = Open(dir, ModelStore::Mode::kFollower);
    absl::Status status = ReadBlob(**store->OpenVersion(1), "M=4").status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr("chunk 1 is missing"));
  }
  EditRaw(dir, [&](rocksdb::DB& db) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), keys::IndexHeader(1, "hnsw", "M=4"), "\xff").ok());
  });
  std::unique_ptr<ModelStore> store = Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(absl::IsDataLoss((*store->OpenVersion(1))->OpenIndex("hnsw", "M=4").status()));
}

TEST(IndexStoreTest, DeletedWithTheVersion) {
  const std::string dir = MakeTestDir();
  const SmallModel first = SmallModel::Make(4, 6, 3, 1);
  const SmallModel second = SmallModel::Make(4, 6, 3, 2);
  {
    std::unique_ptr<ModelStore> store = Open(dir);
    ASSERT_EQ(PublishModel(*store, first), 1u);
    ASSERT_EQ(PublishModel(*store, second), 2u);
    ASSERT_TRUE(WriteBlob(**store->CreateIndexWriter(1, Header(first)), Blob(30, 1)).ok());
    ASSERT_TRUE(WriteBlob(**store->CreateIndexWriter(2, Header(second)), Blob(30, 2)).ok());
    ASSERT_TRUE(store->SetLiveVersion(2).ok());
    ASSERT_TRUE(store->DeleteVersion(1).ok());
  }
  EXPECT_TRUE(IndexKeys(dir, 1).empty());
  EXPECT_EQ(IndexKeys(dir, 2).size(), 4u);
}

}  // namespace
}  // namespace affinity::storage
