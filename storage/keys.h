// The model store's key layout: every key of DIR/models is built and parsed
// here and nowhere else.
//
// Integers inside keys are big-endian so that keys sort numerically.
//
//   "next_version"                         -> be64: the next version number
//                                             CreateVersion hands out
//                                             (absent: 1). Written synced
//                                             before any data of the version.
//   "live"                                 -> be64: the version pinned by
//                                             an older release (read only
//                                             while no rollout state
//                                             exists; removed by the first
//                                             rollout write).
//   "rollout/state"                        -> binary affinity.v1.RolloutState
//                                             (absent: control follows the
//                                             newest eligible version).
//   "rollout/h/" <revision be64>           -> binary affinity.v1.RolloutChange,
//                                             written in the same synced
//                                             batch as the state it made.
//   "v/" <version be64>                    -> binary ModelMetadata. The
//                                             published marker: a version
//                                             exists for readers iff this
//                                             key exists. Written last,
//                                             synced, after a flush.
//   "m/" <version be64> "/i/" <index be32> -> item value: the item's id and
//                                             vector (record_codec.h).
//   "m/" <version be64> "/p"               -> popular items value: item
//                                             indices, most popular first.
//   "m/" <version be64> "/u/" <user id>    -> user value: index, vector and
//                                             seen item indices
//                                             (record_codec.h).
//   "m/" <version be64> "/x/" <kind> "/" <params> "/c/" <generation be64>
//       <chunk be32>                       -> one chunk of an index blob
//                                             (e.g. an HNSW graph), chunk 0
//                                             first. Each write of an index
//                                             has a new random generation, so
//                                             no chunk key is written again
//                                             after a deletion (a follower
//                                             that replayed the deletion
//                                             from the WAL would hide data
//                                             written without it).
//   "m/" <version be64> "/x/" <kind> "/" <params> "/h"
//                                          -> binary affinity.v1.IndexHeader
//                                             naming the generation: the
//                                             index exists iff this key
//                                             does. Written last, synced,
//                                             after a flush. kind and params
//                                             hold no '/' (IsValidIndexName).
//
// Every "m/" key of a version lies in [VersionDataBegin(v), VersionDataEnd(v)),
// so one DeleteRange removes a version's data.
//
// The catalog store (DIR/catalog, a separate database) uses:
//
//   "c/" <item id>                         -> binary affinity.v1.CatalogItem
//   "count"                                -> be64: number of "c/" keys,
//                                             updated in the same write batch
#ifndef AFFINITY_STORAGE_KEYS_H_
#define AFFINITY_STORAGE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace affinity::storage::keys {

std::string NextVersion();
std::string Live();

std::string RolloutState();
std::string RolloutHistory(uint64_t revision);
std::string RolloutHistoryPrefix();
// The revision of a "rollout/h/" key; nullopt for any other key.
std::optional<uint64_t> ParseRolloutHistory(absl::string_view key);

// "v/" <version>.
std::string Published(uint64_t version);
std::string PublishedPrefix();
// The version of a "v/" key; nullopt for any other key.
std::optional<uint64_t> ParsePublished(absl::string_view key);

// "m/" <version> and "m/" <version + 1>: the bounds of a version's data.
std::string VersionDataBegin(uint64_t version);
std::string VersionDataEnd(uint64_t version);
std::string VersionDataPrefix();
// The version of any "m/" key; nullopt for any other key.
std::optional<uint64_t> ParseVersionData(absl::string_view key);

std::string Item(uint64_t version, uint32_t index);
std::string ItemPrefix(uint64_t version);
// The index of an item key of `version`; nullopt for any other key.
std::optional<uint32_t> ParseItem(uint64_t version, absl::string_view key);

std::string User(uint64_t version, absl::string_view user_id);
std::string UserPrefix(uint64_t version);
// The user id of a user key of `version`; nullopt for any other key.
std::optional<absl::string_view> ParseUser(uint64_t version,
                                           absl::string_view key);

std::string Popular(uint64_t version);

// Index blobs stored with a version. kind and params must pass
// IsValidIndexName (letters, digits and "_.,=:+-", not empty).
bool IsValidIndexName(absl::string_view name);
// "m/" <version> "/x/": every index of the version.
std::string IndexPrefix(uint64_t version);
// "m/" <version> "/x/" <kind> "/" <params> "/": one index's header and chunks.
std::string IndexBlobPrefix(uint64_t version, absl::string_view kind,
                            absl::string_view params);
std::string IndexHeader(uint64_t version, absl::string_view kind,
                        absl::string_view params);
// "m/" <version> "/x/" <kind> "/" <params> "/c/" [<generation>]: the chunks
// of one index, of every generation or of one.
std::string IndexChunkPrefix(uint64_t version, absl::string_view kind,
                             absl::string_view params);
std::string IndexGenerationPrefix(uint64_t version, absl::string_view kind,
                                  absl::string_view params, uint64_t generation);
std::string IndexChunk(uint64_t version, absl::string_view kind,
                       absl::string_view params, uint64_t generation, uint32_t chunk);
struct IndexKey {
  std::string kind;
  std::string params;
  // Set for a chunk key, unset for a header key.
  std::optional<uint32_t> chunk;
  uint64_t generation = 0;  // of a chunk key
};
// The parts of an index key of `version`; nullopt for any other key.
std::optional<IndexKey> ParseIndex(uint64_t version, absl::string_view key);

// Catalog store keys.
std::string CatalogItem(absl::string_view item_id);
std::string CatalogItemPrefix();
// The item id of a catalog item key; nullopt for any other key.
std::optional<absl::string_view> ParseCatalogItem(absl::string_view key);
std::string CatalogCount();

// The smallest key greater than every key starting with `prefix`
// (an iterator upper bound). `prefix` must not be all 0xff bytes.
std::string PrefixEnd(absl::string_view prefix);

// 8-byte big-endian encoding used for versions in keys and counter values.
std::string EncodeBe64(uint64_t value);
std::optional<uint64_t> DecodeBe64(absl::string_view bytes);

}  // namespace affinity::storage::keys

#endif  // AFFINITY_STORAGE_KEYS_H_
