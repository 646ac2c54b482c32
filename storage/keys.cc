#include "storage/keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace affinity::storage::keys {
namespace {

constexpr absl::string_view kNextVersion = "next_version";
constexpr absl::string_view kLive = "live";
constexpr absl::string_view kRolloutState = "rollout/state";
constexpr absl::string_view kRolloutHistory = "rollout/h/";
constexpr absl::string_view kPublished = "v/";
constexpr absl::string_view kData = "m/";
constexpr absl::string_view kItems = "/i/";
constexpr absl::string_view kUsers = "/u/";
constexpr absl::string_view kPopular = "/p";
constexpr absl::string_view kIndexes = "/x/";
constexpr absl::string_view kIndexHeader = "h";
constexpr absl::string_view kIndexChunk = "c/";
constexpr absl::string_view kCatalogItem = "c/";
constexpr absl::string_view kCatalogCount = "count";

std::string EncodeBe32(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((value >> (24 - 8 * i)) & 0xff);
  }
  return out;
}

std::optional<uint32_t> DecodeBe32(absl::string_view bytes) {
  if (bytes.size() != 4) return std::nullopt;
  uint32_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

}  // namespace

std::string EncodeBe64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((value >> (56 - 8 * i)) & 0xff);
  }
  return out;
}

std::optional<uint64_t> DecodeBe64(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string NextVersion() { return std::string(kNextVersion); }
std::string Live() { return std::string(kLive); }

std::string RolloutState() { return std::string(kRolloutState); }
std::string RolloutHistory(uint64_t revision) {
  return absl::StrCat(kRolloutHistory, EncodeBe64(revision));
}
std::string RolloutHistoryPrefix() { return std::string(kRolloutHistory); }
std::optional<uint64_t> ParseRolloutHistory(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kRolloutHistory)) return std::nullopt;
  return DecodeBe64(key);
}

std::string Published(uint64_t version) {
  return absl::StrCat(kPublished, EncodeBe64(version));
}
std::string PublishedPrefix() { return std::string(kPublished); }

std::optional<uint64_t> ParsePublished(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kPublished)) return std::nullopt;
  return DecodeBe64(key);
}

std::string VersionDataBegin(uint64_t version) {
  return absl::StrCat(kData, EncodeBe64(version));
}
std::string VersionDataEnd(uint64_t version) {
  return absl::StrCat(kData, EncodeBe64(version + 1));
}
std::string VersionDataPrefix() { return std::string(kData); }

std::optional<uint64_t> ParseVersionData(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kData) || key.size() < 8) return std::nullopt;
  return DecodeBe64(key.substr(0, 8));
}

std::string ItemPrefix(uint64_t version) {
  return absl::StrCat(VersionDataBegin(version), kItems);
}
std::string Item(uint64_t version, uint32_t index) {
  return absl::StrCat(ItemPrefix(version), EncodeBe32(index));
}
std::optional<uint32_t> ParseItem(uint64_t version, absl::string_view key) {
  if (!absl::ConsumePrefix(&key, ItemPrefix(version))) return std::nullopt;
  return DecodeBe32(key);
}

std::string UserPrefix(uint64_t version) {
  return absl::StrCat(VersionDataBegin(version), kUsers);
}
std::string User(uint64_t version, absl::string_view user_id) {
  return absl::StrCat(UserPrefix(version), user_id);
}
std::optional<absl::string_view> ParseUser(uint64_t version,
                                           absl::string_view key) {
  if (!absl::ConsumePrefix(&key, UserPrefix(version))) return std::nullopt;
  return key;
}

std::string Popular(uint64_t version) {
  return absl::StrCat(VersionDataBegin(version), kPopular);
}

bool IsValidIndexName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ',' || c == '=' || c == ':' || c == '+' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string IndexPrefix(uint64_t version) {
  return absl::StrCat(VersionDataBegin(version), kIndexes);
}
std::string IndexBlobPrefix(uint64_t version, absl::string_view kind,
                            absl::string_view params) {
  return absl::StrCat(IndexPrefix(version), kind, "/", params, "/");
}
std::string IndexHeader(uint64_t version, absl::string_view kind,
                        absl::string_view params) {
  return absl::StrCat(IndexBlobPrefix(version, kind, params), kIndexHeader);
}
std::string IndexChunkPrefix(uint64_t version, absl::string_view kind,
                             absl::string_view params) {
  return absl::StrCat(IndexBlobPrefix(version, kind, params), kIndexChunk);
}
std::string IndexGenerationPrefix(uint64_t version, absl::string_view kind,
                                  absl::string_view params, uint64_t generation) {
  return absl::StrCat(IndexChunkPrefix(version, kind, params), EncodeBe64(generation));
}
std::string IndexChunk(uint64_t version, absl::string_view kind,
                       absl::string_view params, uint64_t generation, uint32_t chunk) {
  return absl::StrCat(IndexGenerationPrefix(version, kind, params, generation),
                      EncodeBe32(chunk));
}

std::optional<IndexKey> ParseIndex(uint64_t version, absl::string_view key) {
  if (!absl::ConsumePrefix(&key, IndexPrefix(version))) return std::nullopt;
  // kind "/" params "/" then "h" or "c/" be32 (whose bytes may hold '/').
  const size_t kind_end = key.find('/');
  if (kind_end == absl::string_view::npos) return std::nullopt;
  IndexKey out;
  out.kind = std::string(key.substr(0, kind_end));
  absl::string_view rest = key.substr(kind_end + 1);
  const size_t params_end = rest.find('/');
  if (params_end == absl::string_view::npos) return std::nullopt;
  out.params = std::string(rest.substr(0, params_end));
  rest = rest.substr(params_end + 1);
  if (!IsValidIndexName(out.kind) || !IsValidIndexName(out.params)) return std::nullopt;
  if (rest == kIndexHeader) return out;
  if (!absl::ConsumePrefix(&rest, kIndexChunk) || rest.size() != 12) return std::nullopt;
  out.generation = *DecodeBe64(rest.substr(0, 8));
  out.chunk = DecodeBe32(rest.substr(8));
  return out;
}

std::string CatalogItem(absl::string_view item_id) {
  return absl::StrCat(kCatalogItem, item_id);
}
std::string CatalogItemPrefix() { return std::string(kCatalogItem); }
std::optional<absl::string_view> ParseCatalogItem(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kCatalogItem)) return std::nullopt;
  return key;
}
std::string CatalogCount() { return std::string(kCatalogCount); }

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace affinity::storage::keys
