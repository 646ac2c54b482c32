#include "storage/index_blob.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocks_db.h"
#include "storage/rocks_status.h"

namespace affinity::storage {
namespace {

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ItemVectorsSha256 hashes the in-memory floats as the store's little-endian bytes"
#endif

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size) {
    if (ctx_ != nullptr && EVP_DigestUpdate(ctx_, data, size) != 1) {
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  // 32 bytes; empty when OpenSSL failed (never equal to a stored digest).
  std::string Final() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (ctx_ == nullptr || EVP_DigestFinal_ex(ctx_, digest, &size) != 1) return std::string();
    return std::string(reinterpret_cast<const char*>(digest), size);
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

// Deletes the keys in [begin, end), writing a range deletion only when there
// is a key there.
absl::Status DeleteKeysIn(RocksDb& db, const std::string& begin, const std::string& end,
                          const std::string& what) {
  if (begin >= end) return absl::OkStatus();
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options));
  it->Seek(begin);
  if (!it->Valid()) return FromRocks(it->status(), what);
  return FromRocks(
      db.db()->DeleteRange(rocksdb::WriteOptions(), db.db()->DefaultColumnFamily(), begin, end),
      what);
}

class RocksIndexWriter : public IndexWriter {
 public:
  RocksIndexWriter(std::shared_ptr<RocksDb> db, uint64_t version,
                   affinity::v1::IndexHeader header, size_t chunk_bytes)
      : db_(std::move(db)),
        version_(version),
        header_(std::move(header)),
        chunk_bytes_(std::max<size_t>(chunk_bytes, 1)),
        where_(absl::StrCat("index ", header_.kind(), "/", header_.params(), " of version ",
                            version_)),
        generation_(NewGeneration()) {}

  ~RocksIndexWriter() override {
    // Best effort: a read-write Open removes what is left.
    if (!committed_) {
      const std::string own =
          keys::IndexGenerationPrefix(version_, header_.kind(), header_.params(), generation_);
      DeleteRange(own, keys::PrefixEnd(own)).IgnoreError();
    }
  }

  absl::Status Append(absl::string_view bytes) override {
    if (committed_) return absl::FailedPreconditionError(absl::StrCat(where_, ": committed"));
    if (!error_.ok()) return error_;
    sha_.Update(bytes.data(), bytes.size());
    bytes_ += bytes.size();
    while (!bytes.empty()) {
      const size_t take = std::min(bytes.size(), chunk_bytes_ - pending_.size());
      pending_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      if (pending_.size() == chunk_bytes_) {
        if (absl::Status s = WriteChunk(); !s.ok()) return error_ = s;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<affinity::v1::IndexHeader> Commit() override {
    if (committed_) return absl::FailedPreconditionError(absl::StrCat(where_, ": committed"));
    if (!error_.ok()) return error_;
    if (!pending_.empty()) {
      if (absl::Status s = WriteChunk(); !s.ok()) return error_ = s;
    }
    if (absl::Status s = FlushMemtables(db_->db(), where_);
        !s.ok()) {
      return error_ = s;
    }
    header_.set_blob_bytes(bytes_);
    header_.set_chunks(chunks_);
    header_.set_generation(generation_);
    header_.set_blob_sha256(sha_.Final());
    if (header_.blob_sha256().empty()) {
      return error_ = absl::InternalError(absl::StrCat(where_, ": SHA-256 failed"));
    }
    rocksdb::WriteOptions synced;
    synced.sync = true;
    if (absl::Status s = FromRocks(
            db_->db()->Put(synced, keys::IndexHeader(version_, header_.kind(), header_.params()),
                           header_.SerializeAsString()),
            absl::StrCat("committing ", where_));
        !s.ok()) {
      return error_ = s;
    }
    committed_ = true;
    // The chunks of a replaced index (other generations) go now; keys of a
    // generation are never written again, so followers see no stale delete.
    const std::string all = keys::IndexChunkPrefix(version_, header_.kind(), header_.params());
    const std::string own =
        keys::IndexGenerationPrefix(version_, header_.kind(), header_.params(), generation_);
    if (absl::Status s = DeleteRange(all, own); !s.ok()) return s;
    if (absl::Status s = DeleteRange(keys::PrefixEnd(own), keys::PrefixEnd(all)); !s.ok()) {
      return s;
    }
    return header_;
  }

 private:
  absl::Status WriteChunk() {
    if (chunks_ == UINT32_MAX) {
      return absl::ResourceExhaustedError(absl::StrCat(where_, ": too many chunks"));
    }
    rocksdb::WriteOptions options;
    // Commit flushes before the header; until then a crash loses chunks of
    // an invisible index only.
    options.disableWAL = true;
    rocksdb::Status status = db_->db()->Put(
        options,
        keys::IndexChunk(version_, header_.kind(), header_.params(), generation_, chunks_),
        pending_);
    if (!status.ok()) return FromRocks(status, absl::StrCat("writing ", where_));
    ++chunks_;
    pending_.clear();
    return absl::OkStatus();
  }

  // Deletes keys in [begin, end) when there are any (no needless range
  // tombstones).
  absl::Status DeleteRange(const std::string& begin, const std::string& end) {
    return DeleteKeysIn(*db_, begin, end, absl::StrCat("deleting chunks of ", where_));
  }

  // Random and nonzero: unique among the writes of one index.
  static uint64_t NewGeneration() {
    std::random_device device;
    uint64_t g = 0;
    while (g == 0) g = (uint64_t{device()} << 32) ^ device();
    return g;
  }

  std::shared_ptr<RocksDb> db_;
  const uint64_t version_;
  affinity::v1::IndexHeader header_;
  const size_t chunk_bytes_;
  const std::string where_;
  const uint64_t generation_;
  std::string pending_;
  Sha256 sha_;
  uint64_t bytes_ = 0;
  uint32_t chunks_ = 0;
  bool committed_ = false;
  absl::Status error_;
};

class RocksIndexReader : public IndexReader {
 public:
  RocksIndexReader(std::shared_ptr<RocksDb> db, uint64_t version,
                   affinity::v1::IndexHeader header)
      : db_(std::move(db)),
        header_(std::move(header)),
        where_(absl::StrCat("index ", header_.kind(), "/", header_.params(), " of version ",
                            version)),
        prefix_(keys::IndexGenerationPrefix(version, header_.kind(), header_.params(),
                                            header_.generation())),
        end_(keys::PrefixEnd(prefix_)),
        upper_(end_),
        version_(version) {
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_;
    options.readahead_size = size_t{4} << 20;
    options.fill_cache = false;
    it_.reset(db_->db()->NewIterator(options));
    it_->Seek(prefix_);
  }

  const affinity::v1::IndexHeader& header() const override { return header_; }

  absl::Status Read(absl::Span<char> out) override {
    while (!out.empty()) {
      if (offset_ == chunk_.size()) {
        if (absl::Status s = NextChunk(); !s.ok()) return s;
        continue;
      }
      const size_t take = std::min(out.size(), chunk_.size() - offset_);
      std::memcpy(out.data(), chunk_.data() + offset_, take);
      sha_.Update(chunk_.data() + offset_, take);
      offset_ += take;
      read_ += take;
      out.remove_prefix(take);
    }
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    if (read_ != header_.blob_bytes() || offset_ != chunk_.size()) {
      return absl::DataLossError(absl::StrCat(where_, ": ", read_, " bytes read, the header says ",
                                              header_.blob_bytes()));
    }
    if (chunks_read_ != header_.chunks()) {
      return absl::DataLossError(absl::StrCat(where_, ": ", chunks_read_,
                                              " chunks read, the header says ", header_.chunks()));
    }
    const std::string digest = sha_.Final();
    if (digest != header_.blob_sha256()) {
      return absl::DataLossError(absl::StrCat(where_, ": blob SHA-256 ", Hex(digest),
                                              ", the header says ",
                                              Hex(header_.blob_sha256())));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status NextChunk() {
    if (started_) it_->Next();
    started_ = true;
    if (!it_->Valid()) {
      if (absl::Status s = FromRocks(it_->status(), absl::StrCat("reading ", where_)); !s.ok()) {
        return s;
      }
      return absl::DataLossError(absl::StrCat(where_, ": the blob ends after ", read_,
                                              " bytes, the header says ", header_.blob_bytes()));
    }
    std::optional<keys::IndexKey> key = keys::ParseIndex(
        version_, absl::string_view(it_->key().data(), it_->key().size()));
    if (!key.has_value() || key->chunk != chunks_read_ ||
        key->generation != header_.generation()) {
      return absl::DataLossError(absl::StrCat(where_, ": chunk ", chunks_read_, " is missing"));
    }
    ++chunks_read_;
    chunk_ = absl::string_view(it_->value().data(), it_->value().size());
    offset_ = 0;
    return absl::OkStatus();
  }

  std::shared_ptr<RocksDb> db_;
  affinity::v1::IndexHeader header_;
  const std::string where_;
  const std::string prefix_;
  const std::string end_;
  rocksdb::Slice upper_;
  uint64_t version_ = 0;
  std::unique_ptr<rocksdb::Iterator> it_;
  bool started_ = false;
  // The current chunk, valid while it_ stays on it.
  absl::string_view chunk_;
  size_t offset_ = 0;
  uint64_t read_ = 0;
  uint32_t chunks_read_ = 0;
  Sha256 sha_;
};

}  // namespace

std::string ItemVectorsSha256(absl::Span<const float> vectors) {
  Sha256 sha;
  sha.Update(vectors.data(), vectors.size() * sizeof(float));
  return sha.Final();
}

absl::Status CheckIndexName(const affinity::v1::IndexHeader& header) {
  for (const std::string& name : {header.kind(), header.params()}) {
    if (!keys::IsValidIndexName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "index kind/params '", header.kind(), "/", header.params(), "': '", name,
          "' expected non-empty letters, digits and \"_.,=:+-\""));
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<IndexWriter> NewIndexWriter(std::shared_ptr<RocksDb> db, uint64_t version,
                                            affinity::v1::IndexHeader header,
                                            size_t chunk_bytes) {
  header.clear_blob_bytes();
  header.clear_chunks();
  header.clear_blob_sha256();
  return std::make_unique<RocksIndexWriter>(std::move(db), version, std::move(header),
                                            chunk_bytes);
}

absl::StatusOr<std::vector<affinity::v1::IndexHeader>> ListIndexHeaders(
    const RocksDb& db, const rocksdb::ReadOptions& read, uint64_t version) {
  std::vector<affinity::v1::IndexHeader> out;
  const std::string prefix = keys::IndexPrefix(version);
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options = read;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options));
  for (it->Seek(prefix); it->Valid();) {
    std::optional<keys::IndexKey> key =
        keys::ParseIndex(version, absl::string_view(it->key().data(), it->key().size()));
    if (!key.has_value()) {
      return absl::DataLossError(
          absl::StrCat("version ", version, ": malformed index key in ", db.path()));
    }
    const std::string blob = keys::IndexBlobPrefix(version, key->kind, key->params);
    if (!key->chunk.has_value()) {
      affinity::v1::IndexHeader header;
      if (!header.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("version ", version, ": header of index ",
                                                key->kind, "/", key->params, " does not parse"));
      }
      out.push_back(std::move(header));
    } else {
      // Skip the chunks: seek to the header, the blob's last key.
      it->Seek(keys::IndexHeader(version, key->kind, key->params));
      continue;
    }
    it->Seek(keys::PrefixEnd(blob));
  }
  if (absl::Status s = FromRocks(it->status(), absl::StrCat("listing indexes of version ",
                                                            version));
      !s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<IndexReader>> OpenIndexReader(std::shared_ptr<RocksDb> db,
                                                             uint64_t version,
                                                             absl::string_view kind,
                                                             absl::string_view params) {
  const std::string where = absl::StrCat("index ", kind, "/", params, " of version ", version);
  if (!keys::IsValidIndexName(kind) || !keys::IsValidIndexName(params)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a valid index name"));
  }
  std::string value;
  rocksdb::Status status =
      db->db()->Get(rocksdb::ReadOptions(), keys::IndexHeader(version, kind, params), &value);
  if (status.IsNotFound()) return absl::NotFoundError(absl::StrCat(where, " is not stored"));
  if (!status.ok()) return FromRocks(status, absl::StrCat("reading ", where));
  affinity::v1::IndexHeader header;
  if (!header.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat(where, ": header does not parse"));
  }
  if (header.kind() != kind || header.params() != params) {
    return absl::DataLossError(absl::StrCat(where, ": its header names ", header.kind(), "/",
                                            header.params()));
  }
  return std::unique_ptr<IndexReader>(
      new RocksIndexReader(std::move(db), version, std::move(header)));
}

absl::Status RemoveIncompleteIndexes(RocksDb& db, uint64_t version) {
  const std::string prefix = keys::IndexPrefix(version);
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options));
  for (it->Seek(prefix); it->Valid();) {
    std::optional<keys::IndexKey> key =
        keys::ParseIndex(version, absl::string_view(it->key().data(), it->key().size()));
    if (!key.has_value()) {
      return absl::DataLossError(
          absl::StrCat("version ", version, ": malformed index key in ", db.path()));
    }
    const std::string blob = keys::IndexBlobPrefix(version, key->kind, key->params);
    const std::string chunks = keys::IndexChunkPrefix(version, key->kind, key->params);
    const std::string what = absl::StrCat("removing incomplete writes of index ", key->kind, "/",
                                          key->params, " of version ", version);
    std::string value;
    rocksdb::Status status = db.db()->Get(
        rocksdb::ReadOptions(), keys::IndexHeader(version, key->kind, key->params), &value);
    affinity::v1::IndexHeader header;
    if (status.ok() && header.ParseFromString(value)) {
      // Keep the committed generation only.
      const std::string own =
          keys::IndexGenerationPrefix(version, key->kind, key->params, header.generation());
      if (absl::Status s = DeleteKeysIn(db, chunks, own, what); !s.ok()) return s;
      if (absl::Status s = DeleteKeysIn(db, keys::PrefixEnd(own), keys::PrefixEnd(chunks), what);
          !s.ok()) {
        return s;
      }
    } else if (status.IsNotFound()) {
      if (absl::Status s = DeleteKeysIn(db, chunks, keys::PrefixEnd(chunks), what); !s.ok()) {
        return s;
      }
    } else if (!status.ok()) {
      return FromRocks(status, what);
    }
    it->Seek(keys::PrefixEnd(blob));
  }
  return FromRocks(it->status(), absl::StrCat("scanning the indexes of version ", version));
}

}  // namespace affinity::storage
