// What an affinity.v1.UpsertItemsRequest asks the catalog to write: one
// storage::CatalogPatch per entry (items or updates), in order, every mask
// checked. Pure functions; thread-safe.
//
// UpsertPatches(request):
//  - items without update_mask (or with "*"): each patch names every
//    CatalogItem field but item_id, so the item is replaced whole (the
//    original behaviour of UpsertItems).
//  - items with update_mask: each patch names the mask's fields.
//  - updates: each patch names its own update_mask's fields ("*": all).
//  - InvalidArgument naming the field, nothing returned, when: both items
//    and updates are given ("items, updates: ..."); update_mask comes with
//    updates; a path is not a CatalogItem field ("update_mask.paths[1]:
//    unknown field 'stock', expected one of title, ..."), is item_id, or is
//    "*" beside other paths; an update's mask is empty
//    ("updates[2].update_mask: empty, ..."); an item fails
//    storage::CheckCatalogItem ("items[0].price: nan, expected ...",
//    "updates[1].item.item_id: must not be empty").
#ifndef AFFINITY_SERVER_RPC_UPSERT_PATCHES_H_
#define AFFINITY_SERVER_RPC_UPSERT_PATCHES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/admin.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "storage/catalog_store.h"

namespace affinity::server {

// The CatalogItem fields an update may name, in field-number order: every
// field but item_id.
const std::vector<std::string>& UpdatableCatalogFields();

// `mask` checked as the mask of the request field `field` ("update_mask",
// "updates[2].update_mask"), "*" expanded to UpdatableCatalogFields(). An
// empty mask comes back empty.
absl::StatusOr<google::protobuf::FieldMask> CheckUpdateMask(
    const google::protobuf::FieldMask& mask, absl::string_view field);

absl::StatusOr<std::vector<storage::CatalogPatch>> UpsertPatches(
    const affinity::v1::UpsertItemsRequest& request);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_UPSERT_PATCHES_H_
