#include "server/rpc/admin_validation.h"

#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

absl::Status CheckCount(absl::string_view field, int count, const AdminLimits& limits) {
  if (static_cast<size_t>(count) > limits.max_items) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", limits.max_items,
                                                   " per call, got ", count));
  }
  return absl::OkStatus();
}

absl::Status CheckId(const std::string& field, const std::string& id, const AdminLimits& limits) {
  if (id.size() > limits.max_id_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", limits.max_id_bytes, " bytes, got ", id.size()));
  }
  return absl::OkStatus();
}

// One item of an upsert; `field` names it ("items[2]", "updates[2].item").
absl::Status CheckItem(const std::string& field, const affinity::v1::CatalogItem& item,
                       const AdminLimits& limits) {
  if (absl::Status s = CheckId(absl::StrCat(field, ".item_id"), item.item_id(), limits);
      !s.ok()) {
    return s;
  }
  const size_t bytes = item.ByteSizeLong();
  if (bytes > limits.max_item_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", limits.max_item_bytes,
                                                   " bytes serialized, got ", bytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateUpsertItems(const affinity::v1::UpsertItemsRequest& request,
                                 const AdminLimits& limits) {
  if (absl::Status s = CheckCount("items", request.items_size(), limits); !s.ok()) return s;
  if (absl::Status s = CheckCount("updates", request.updates_size(), limits); !s.ok()) return s;
  for (int i = 0; i < request.items_size(); ++i) {
    if (absl::Status s = CheckItem(absl::StrCat("items[", i, "]"), request.items(i), limits);
        !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < request.updates_size(); ++i) {
    if (absl::Status s =
            CheckItem(absl::StrCat("updates[", i, "].item"), request.updates(i).item(), limits);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDeleteItems(const affinity::v1::DeleteItemsRequest& request,
                                 const AdminLimits& limits) {
  if (absl::Status s = CheckCount("item_ids", request.item_ids_size(), limits); !s.ok()) return s;
  for (int i = 0; i < request.item_ids_size(); ++i) {
    if (absl::Status s = CheckId(absl::StrCat("item_ids[", i, "]"), request.item_ids(i), limits);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace affinity::server
