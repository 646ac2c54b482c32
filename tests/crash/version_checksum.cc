#include "tests/crash/version_checksum.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"
#include "absl/strings/str_cat.h"

namespace affinity::testing {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Feeds length-prefixed fields into SHA-256, so that field boundaries are
// part of the checksum.
class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void Bytes(const void* data, size_t size) {
    const uint64_t n = size;
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), &n, sizeof(n)) == 1 &&
          EVP_DigestUpdate(ctx_.get(), data, size) == 1;
  }
  void String(absl::string_view s) { Bytes(s.data(), s.size()); }
  template <typename T>
  void Vector(const std::vector<T>& v) {
    Bytes(v.data(), v.size() * sizeof(T));
  }
  absl::StatusOr<std::string> Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) {
      return absl::InternalError("SHA-256 failed");
    }
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), size));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
  bool ok_ = false;
};

// Deterministic: the metadata holds maps (parameters, metrics).
absl::StatusOr<std::string> Deterministic(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message.SerializeToCodedStream(&coded)) {
      return absl::InternalError(absl::StrCat("serializing a ", message.GetTypeName()));
    }
  }
  return bytes;
}

absl::Status HashContent(const storage::ModelVersionReader& version, Hasher* h) {
  const affinity::v1::ModelMetadata& m = version.metadata();
  std::vector<float> items(static_cast<size_t>(m.items()) * static_cast<size_t>(m.dims()));
  if (absl::Status s = version.ReadItemFactors(absl::MakeSpan(items)); !s.ok()) return s;
  for (const std::string& id : version.item_ids()) h->String(id);
  h->Vector(items);
  h->Vector(version.popular_items());
  int64_t users = 0;
  absl::Status s = version.ForEachUser(
      [&](absl::string_view id, const storage::UserRecord& user) -> absl::Status {
        h->String(id);
        h->Bytes(&user.index, sizeof(user.index));
        h->Vector(user.factors);
        h->Vector(user.seen);
        ++users;
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (users != m.users()) {
    return absl::DataLossError(absl::StrCat("version ", m.version(), " holds ", users,
                                            " users, its metadata says ", m.users()));
  }
  return absl::OkStatus();
}

// Every stored index: its header (deterministic serialization) and blob,
// read through IndexReader, whose Finish checks the blob's SHA-256.
absl::Status HashIndexes(const storage::ModelVersionReader& version, Hasher* h) {
  absl::StatusOr<std::vector<affinity::v1::IndexHeader>> headers = version.ListIndexes();
  if (!headers.ok()) return headers.status();
  for (const affinity::v1::IndexHeader& header : *headers) {
    absl::StatusOr<std::string> bytes = Deterministic(header);
    if (!bytes.ok()) return bytes.status();
    h->String(*bytes);
    auto reader = version.OpenIndex(header.kind(), header.params());
    if (!reader.ok()) return reader.status();
    std::vector<char> chunk(1 << 20);
    for (uint64_t left = header.blob_bytes(); left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      if (absl::Status s = (*reader)->Read(absl::MakeSpan(chunk.data(), n)); !s.ok()) return s;
      h->Bytes(chunk.data(), n);
      left -= n;
    }
    if (absl::Status s = (*reader)->Finish(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ContentChecksum(const storage::ModelVersionReader& version) {
  Hasher h;
  if (absl::Status s = HashContent(version, &h); !s.ok()) return s;
  return h.Hex();
}

absl::StatusOr<std::string> FullChecksum(const storage::ModelVersionReader& version) {
  Hasher h;
  if (absl::Status s = HashContent(version, &h); !s.ok()) return s;
  absl::StatusOr<std::string> metadata = Deterministic(version.metadata());
  if (!metadata.ok()) return metadata.status();
  h.String(*metadata);
  if (absl::Status s = HashIndexes(version, &h); !s.ok()) return s;
  return h.Hex();
}

}  // namespace affinity::testing
