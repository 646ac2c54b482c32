// The item catalog: one affinity.v1.CatalogItem per item id, kept in its
// own RocksDB under DIR/catalog so that it can be updated (by the server)
// while models are written to DIR/models (by the trainer).
//
// Contract:
//  - Upsert, Patch, Replace and Delete are atomic and durable (one synced
//    write batch): after a crash either all or none of a call's changes
//    are present.
//  - Count() is exact; it is kept in the same batches as the items.
//  - One read-write process at a time; any number of followers, which see
//    changes made after they opened once they call Refresh().
#ifndef AFFINITY_STORAGE_CATALOG_STORE_H_
#define AFFINITY_STORAGE_CATALOG_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace affinity::storage {

class RocksDb;

// The fields of one item as the store accepts them: a non-empty item_id and,
// when set, a finite price. InvalidArgument "FIELD: what, expected what"
// naming the field (item_id, price) otherwise.
absl::Status CheckCatalogItem(const affinity::v1::CatalogItem& item);

// A write of some fields of one item: the fields named in `fields`
// (CatalogItem field names: "title", "categories", "price", "in_stock",
// "created_at_unix", ...) take `item`'s values, an unset price clearing the
// stored one; the other fields keep what is stored.
struct CatalogPatch {
  affinity::v1::CatalogItem item;
  google::protobuf::FieldMask fields;
};

// The item a patch starts from when its id is not stored yet: in stock,
// every other field empty (no price, created_at_unix 0).
affinity::v1::CatalogItem NewCatalogItem(absl::string_view item_id);

// Writes the fields `patch` names from patch.item into *item, as Patch does
// (repeated fields replaced, not appended; an unset price clears it); the
// item_id is left alone. The mask must hold CatalogItem field names
// (callers check it: FieldMaskUtil::IsValidFieldMask).
void ApplyCatalogPatch(const CatalogPatch& patch, affinity::v1::CatalogItem* item);

// What a Patch or Replace did, per distinct item id.
struct CatalogWriteCounts {
  int64_t added = 0;      // ids not in the catalog before
  int64_t updated = 0;    // stored items whose record changed
  int64_t unchanged = 0;  // stored items left as they were
  int64_t removed = 0;    // Replace: stored items absent from its patches
};

struct CatalogStoreOptions {
  size_t block_cache_bytes = size_t{64} << 20;
  // When set, Open fails with FailedPrecondition (creating nothing) unless
  // DIR/catalog holds the database of this identity (see identity()): a
  // writer for the catalog a follower reads, never for one that replaced it.
  std::string expected_identity;
};

class CatalogStore {
 public:
  enum class Mode { kReadWrite, kFollower };

  // Opens DIR/catalog (creating DIR and the store in kReadWrite mode; a
  // follower of a missing store creates it empty).
  static absl::StatusOr<std::unique_ptr<CatalogStore>> Open(
      const std::string& dir, Mode mode = Mode::kReadWrite,
      const CatalogStoreOptions& options = CatalogStoreOptions());
  ~CatalogStore();

  // kFollower: catch up with the read-write process. kReadWrite: no-op.
  // FailedPrecondition, for good, once DIR/catalog was deleted or replaced
  // since Open (storage/rocks_db.h); the items read before stay readable.
  absl::Status Refresh();
  // The database's identity, and whether DIR/catalog still holds it.
  const std::string& identity() const;
  absl::Status CheckSameDatabase() const;

  // kReadWrite only. Inserts or replaces items by item_id; when ids repeat
  // in `items` the last one wins. InvalidArgument (nothing written) when an
  // item fails CheckCatalogItem: "catalog item #3 ('sku-9'): price: ...".
  absl::Status Upsert(absl::Span<const affinity::v1::CatalogItem> items);
  // kReadWrite only. Applies the patches in order (several for one id apply
  // one after the other) on the stored items, or on NewCatalogItem for ids
  // not stored. InvalidArgument (nothing written) when a patch names a field
  // CatalogItem lacks or an item comes out failing CheckCatalogItem:
  // "catalog item #3 ('sku-9'): price: ...".
  absl::StatusOr<CatalogWriteCounts> Patch(absl::Span<const CatalogPatch> patches);
  // kReadWrite only. The catalog becomes exactly the patches' items, each
  // applied on NewCatalogItem (fields a patch does not name take their
  // defaults); stored items whose id no patch names are removed. Same
  // errors as Patch, nothing written.
  absl::StatusOr<CatalogWriteCounts> Replace(absl::Span<const CatalogPatch> patches);
  // kReadWrite only. Removes the items; unknown ids are ignored. Returns
  // how many items were removed.
  absl::StatusOr<int64_t> Delete(absl::Span<const std::string> item_ids);

  // NotFound when the item is not in the catalog.
  absl::StatusOr<affinity::v1::CatalogItem> Get(absl::string_view item_id) const;
  // One entry per id, nullopt for ids not in the catalog.
  absl::StatusOr<std::vector<std::optional<affinity::v1::CatalogItem>>> GetMany(
      absl::Span<const std::string> item_ids) const;
  // Calls fn for every item in ascending item_id order; stops at the first
  // error and returns it.
  absl::Status ForEach(
      const std::function<absl::Status(const affinity::v1::CatalogItem&)>& fn) const;
  absl::StatusOr<int64_t> Count() const;

 private:
  CatalogStore(std::shared_ptr<RocksDb> db, Mode mode);
  absl::Status RequireReadWrite(absl::string_view operation) const;
  absl::StatusOr<int64_t> ReadCount() const;
  // Which of `ids` (distinct) are present.
  absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& ids) const;
  // Patch (replace == false) or Replace.
  absl::StatusOr<CatalogWriteCounts> Write(absl::Span<const CatalogPatch> patches,
                                           bool replace);

  std::shared_ptr<RocksDb> db_;
  Mode mode_;
};

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_STORE_H_
