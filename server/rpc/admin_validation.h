// Bounds on what one CatalogAdmin call may carry, checked before anything
// is written: every error is InvalidArgument naming the field (with its
// index) and the limit, and a refused call writes nothing.
#ifndef AFFINITY_SERVER_RPC_ADMIN_VALIDATION_H_
#define AFFINITY_SERVER_RPC_ADMIN_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "affinity/v1/admin.pb.h"

namespace affinity::server {

struct AdminLimits {
  // Items (or updates) of one UpsertItems, ids of one DeleteItems
  // (--max_admin_items).
  size_t max_items = 10000;
  // An item_id (--max_id_bytes).
  size_t max_id_bytes = 256;
  // One catalog item serialized: its title, categories, tags and other
  // attributes together (--max_item_bytes).
  size_t max_item_bytes = 65536;
};

absl::Status ValidateUpsertItems(const affinity::v1::UpsertItemsRequest& request,
                                 const AdminLimits& limits);
absl::Status ValidateDeleteItems(const affinity::v1::DeleteItemsRequest& request,
                                 const AdminLimits& limits);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_ADMIN_VALIDATION_H_
