#include "server/rules/item_attributes.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace affinity::server::rules {

const char* KnownAttributeNames() {
  return "category, primary_category, brand, region, tag, item_id, price, created_at, in_stock";
}

absl::StatusOr<Attribute> ParseAttribute(absl::string_view name) {
  if (name == "category") return Attribute::kCategory;
  if (name == "primary_category") return Attribute::kPrimaryCategory;
  if (name == "brand") return Attribute::kBrand;
  if (name == "region") return Attribute::kRegion;
  if (name == "tag") return Attribute::kTag;
  if (name == "item_id") return Attribute::kItemId;
  if (name == "price") return Attribute::kPrice;
  if (name == "created_at") return Attribute::kCreatedAt;
  if (name == "in_stock") return Attribute::kInStock;
  return absl::InvalidArgumentError(absl::StrCat("unknown attribute \"", name.substr(0, 64),
                                                 "\" (known: ", KnownAttributeNames(), ")"));
}

AttributeKind KindOf(Attribute attribute) {
  switch (attribute) {
    case Attribute::kPrice:
    case Attribute::kCreatedAt:
      return AttributeKind::kNumber;
    case Attribute::kInStock:
      return AttributeKind::kBoolean;
    default:
      return AttributeKind::kString;
  }
}

StringValues StringValuesOf(Attribute attribute, const affinity::v1::CatalogItem* item) {
  StringValues out;
  if (item == nullptr) return out;
  auto add = [&out](const std::string& v) {
    if (!v.empty()) out.push_back(v);
  };
  switch (attribute) {
    case Attribute::kCategory:
      for (const std::string& c : item->categories()) add(c);
      break;
    case Attribute::kPrimaryCategory:
      if (item->categories_size() > 0) add(item->categories(0));
      break;
    case Attribute::kBrand:
      add(item->brand());
      break;
    case Attribute::kRegion:
      add(item->region());
      break;
    case Attribute::kTag:
      for (const std::string& t : item->tags()) add(t);
      break;
    case Attribute::kItemId:
      add(item->item_id());
      break;
    default:
      break;
  }
  return out;
}

std::optional<double> NumberOf(Attribute attribute, const affinity::v1::CatalogItem* item) {
  if (item == nullptr) return std::nullopt;
  if (attribute == Attribute::kPrice) {
    // Unset is missing; so is a NaN or infinity stored before writes
    // refused them.
    if (!item->has_price() || !std::isfinite(item->price())) return std::nullopt;
    return item->price();
  }
  if (attribute == Attribute::kCreatedAt && item->created_at_unix() != 0) {
    return static_cast<double>(item->created_at_unix());
  }
  return std::nullopt;
}

std::optional<bool> BooleanOf(Attribute attribute, const affinity::v1::CatalogItem* item) {
  if (item == nullptr || attribute != Attribute::kInStock) return std::nullopt;
  return item->in_stock();
}

}  // namespace affinity::server::rules
