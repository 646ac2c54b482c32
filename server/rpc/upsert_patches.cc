#include "server/rpc/upsert_patches.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;

google::protobuf::FieldMask AllFields() {
  google::protobuf::FieldMask mask;
  for (const std::string& name : UpdatableCatalogFields()) mask.add_paths(name);
  return mask;
}

absl::Status CheckItem(const CatalogItem& item, absl::string_view field) {
  if (item.item_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".item_id: must not be empty"));
  }
  if (absl::Status s = storage::CheckCatalogItem(item); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& UpdatableCatalogFields() {
  static const std::vector<std::string>* const kFields = [] {
    auto* fields = new std::vector<std::string>;
    const google::protobuf::Descriptor* type = CatalogItem::descriptor();
    for (int i = 0; i < type->field_count(); ++i) {
      if (type->field(i)->number() != CatalogItem::kItemIdFieldNumber) {
        fields->push_back(type->field(i)->name());
      }
    }
    return fields;
  }();
  return *kFields;
}

absl::StatusOr<google::protobuf::FieldMask> CheckUpdateMask(
    const google::protobuf::FieldMask& mask, absl::string_view field) {
  const google::protobuf::Descriptor* type = CatalogItem::descriptor();
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    const std::string where = absl::StrCat(field, ".paths[", i, "]");
    if (path == "*") {
      if (mask.paths_size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": '*' (the whole item) beside other paths, expected it alone"));
      }
      return AllFields();
    }
    const google::protobuf::FieldDescriptor* named = type->FindFieldByName(path);
    if (named == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown field '", path, "', expected one of ",
          absl::StrJoin(UpdatableCatalogFields(), ", "), ", or '*' alone for the whole item"));
    }
    if (named->number() == CatalogItem::kItemIdFieldNumber) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": 'item_id' names the item and cannot be updated, expected other fields"));
    }
  }
  return mask;
}

absl::StatusOr<std::vector<storage::CatalogPatch>> UpsertPatches(
    const affinity::v1::UpsertItemsRequest& request) {
  if (request.items_size() > 0 && request.updates_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "items, updates: ", request.items_size(), " items and ", request.updates_size(),
        " updates, expected one of them (items with update_mask, or updates)"));
  }
  if (request.updates_size() > 0 && request.update_mask().paths_size() > 0) {
    return absl::InvalidArgumentError(
        "update_mask: given with updates, expected it with items only (each of updates "
        "carries its own update_mask)");
  }
  std::vector<storage::CatalogPatch> patches;
  patches.reserve(request.items_size() + request.updates_size());
  if (request.items_size() > 0) {
    absl::StatusOr<google::protobuf::FieldMask> mask =
        CheckUpdateMask(request.update_mask(), "update_mask");
    if (!mask.ok()) return mask.status();
    if (mask->paths_size() == 0) *mask = AllFields();  // no mask: whole items
    for (int i = 0; i < request.items_size(); ++i) {
      if (absl::Status s = CheckItem(request.items(i), absl::StrCat("items[", i, "]")); !s.ok()) {
        return s;
      }
      patches.push_back({request.items(i), *mask});
    }
  }
  for (int i = 0; i < request.updates_size(); ++i) {
    const affinity::v1::ItemUpdate& update = request.updates(i);
    const std::string field = absl::StrCat("updates[", i, "]");
    if (update.update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".update_mask: empty, expected the fields to write (e.g. in_stock) or '*' for "
                 "the whole item"));
    }
    absl::StatusOr<google::protobuf::FieldMask> mask =
        CheckUpdateMask(update.update_mask(), field + ".update_mask");
    if (!mask.ok()) return mask.status();
    if (absl::Status s = CheckItem(update.item(), field + ".item"); !s.ok()) return s;
    patches.push_back({update.item(), *std::move(mask)});
  }
  return patches;
}

}  // namespace affinity::server
