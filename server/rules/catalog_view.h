// CatalogView: the server's in-memory copy of the item catalog
// (storage/catalog_store.h under DIR/catalog), as immutable snapshots.
//
// Contract:
//  - snapshot() is cheap and lock-free for readers' purposes (a shared_ptr
//    copy under a short mutex); a snapshot never changes.
//  - Refresh() catches up with writes made by other processes (e.g.
//    `affinity-train catalog`) through the follower store and publishes a
//    new snapshot, with a new generation, only when something changed. It
//    re-reads the items only when the files under DIR/catalog changed
//    (names, sizes, mtimes: every write grows the write-ahead log; the
//    informational LOG files are ignored), so an idle catalog costs one
//    directory listing per call. The view's own writes record the files'
//    state right after closing the store, so they are not re-read. A
//    re-read shares the records of unchanged items with the current
//    snapshot (one copy of each item, whatever another process rewrote).
//  - Upsert/Delete write through a read-write open of the store held only
//    for the write, so another process may write between them; when that
//    process holds the store at the same instant the call fails with
//    UNAVAILABLE "catalog is busy, retry". On success the change is in the
//    next snapshot() at once.
//  - DIR/catalog deleted (or deleted and created again) after Open: the
//    view keeps its last snapshot, Refresh fails with FAILED_PRECONDITION
//    at every call (storage/rocks_db.h), and Upsert/Delete fail with
//    FAILED_PRECONDITION "nothing written: ..." without creating a catalog.
#ifndef AFFINITY_SERVER_RULES_CATALOG_VIEW_H_
#define AFFINITY_SERVER_RULES_CATALOG_VIEW_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"
#include "storage/catalog_store.h"

namespace affinity::server::rules {

struct CatalogSnapshot {
  uint64_t generation = 0;
  // Set when this snapshot is `base_generation` plus changes to
  // `changed_ids` only (the view's own writes); 0 after a full read.
  uint64_t base_generation = 0;
  std::vector<std::string> changed_ids;
  absl::flat_hash_map<std::string, std::shared_ptr<const affinity::v1::CatalogItem>> items;

  const affinity::v1::CatalogItem* Find(absl::string_view item_id) const {
    auto it = items.find(item_id);
    return it == items.end() ? nullptr : it->second.get();
  }
};

class CatalogView {
 public:
  // Opens DIR/catalog as a follower (created empty when missing) and reads
  // every item.
  static absl::StatusOr<std::unique_ptr<CatalogView>> Open(const std::string& dir);
  // A view over fixed items, without a store (tests, benchmarks); Upsert and
  // Delete change the snapshot only.
  static std::unique_ptr<CatalogView> InMemory(std::vector<affinity::v1::CatalogItem> items);

  std::shared_ptr<const CatalogSnapshot> snapshot() const;
  // True when a new snapshot was published. `force` re-reads even when the
  // files look unchanged (a periodic safety net: a write by another process
  // in the instant between this view's check and its own write could
  // otherwise go unread until the next change).
  absl::StatusOr<bool> Refresh(bool force = false);
  // Returns the number of items written / removed. Upsert checks every
  // item first (storage::CheckCatalogItem) and writes nothing when one
  // fails: InvalidArgument "items[3].price: ...".
  absl::StatusOr<int64_t> Upsert(absl::Span<const affinity::v1::CatalogItem> items);
  // Writes the fields each patch names (storage::CatalogStore::Patch: on the
  // stored item, or on storage::NewCatalogItem for a new id; several
  // patches of one id apply in order), as one atomic write. Checks every
  // patch first and writes nothing when one fails: InvalidArgument
  // "patches[3].price: ..." (a mask naming a field CatalogItem lacks,
  // an empty item_id, a non-finite price). The next snapshot holds the items
  // as stored after the write; none is published when nothing changed.
  absl::StatusOr<storage::CatalogWriteCounts> Patch(
      absl::Span<const storage::CatalogPatch> patches);
  absl::StatusOr<int64_t> Delete(absl::Span<const std::string> item_ids);

 private:
  CatalogView(std::string dir, std::unique_ptr<storage::CatalogStore> follower);
  absl::StatusOr<std::unique_ptr<storage::CatalogStore>> OpenWriter() const;
  // Publishes `next` as the following generation. `changed_ids` null: a
  // full read (no base).
  void Publish(std::shared_ptr<CatalogSnapshot> next,
               const std::vector<std::string>* changed_ids = nullptr);

  // Names, sizes and mtimes of the files under DIR/catalog.
  std::string FilesFingerprint() const;

  std::string dir_;  // empty: in memory only
  std::string last_fingerprint_;  // guarded by write_mu_
  std::unique_ptr<storage::CatalogStore> follower_;
  std::mutex write_mu_;  // one write or refresh at a time
  mutable std::mutex mu_;
  std::shared_ptr<const CatalogSnapshot> current_;  // guarded by mu_
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_CATALOG_VIEW_H_
