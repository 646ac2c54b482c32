// Catalog attributes as business rules see them: the attribute names a rule
// file may use, their kind (string, number, boolean), and the values of an
// item for each. An item missing from the catalog has no values at all.
#ifndef AFFINITY_SERVER_RULES_ITEM_ATTRIBUTES_H_
#define AFFINITY_SERVER_RULES_ITEM_ATTRIBUTES_H_

#include <optional>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"

namespace affinity::server::rules {

enum class Attribute {
  kCategory,         // every category (multi-valued)
  kPrimaryCategory,  // the first category
  kBrand,
  kRegion,
  kTag,  // multi-valued
  kItemId,
  kPrice,
  kCreatedAt,  // seconds since the epoch; 0 means unknown
  kInStock,
};

enum class AttributeKind { kString, kNumber, kBoolean };

// InvalidArgument naming the known attributes when `name` is not one.
absl::StatusOr<Attribute> ParseAttribute(absl::string_view name);
AttributeKind KindOf(Attribute attribute);
// The names ParseAttribute accepts, comma separated.
const char* KnownAttributeNames();

using StringValues = absl::InlinedVector<absl::string_view, 4>;

// String values of `item` (null: not in the catalog) for a string
// attribute; empty strings are not values.
StringValues StringValuesOf(Attribute attribute, const affinity::v1::CatalogItem* item);
// Number for price / created_at; nullopt when the item is not in the
// catalog, has no price (unset, or not finite), or (created_at) the date is
// unknown.
std::optional<double> NumberOf(Attribute attribute, const affinity::v1::CatalogItem* item);
// in_stock; nullopt when the item is not in the catalog.
std::optional<bool> BooleanOf(Attribute attribute, const affinity::v1::CatalogItem* item);

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_ITEM_ATTRIBUTES_H_
