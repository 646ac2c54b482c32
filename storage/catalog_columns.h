// The columns of a catalog file, and the column map (`--columns`) for files
// that call them by other names.
//
// Our column names (a CSV header's; case-insensitive, surrounding blanks
// ignored): item_id, title, category or categories, brand, price, in_stock,
// created_at, region, tags. A JSON Lines key is a CatalogItem field name or
// its JSON name ("item_id" or "itemId", "created_at_unix" or
// "createdAtUnix"), case as written.
//
// A column map is "THEIRS:OURS,THEIRS:OURS,...": the file's column THEIRS
// holds our column OURS, e.g. "sku:item_id,Product Name:title,stock:in_stock"
// (THEIRS matched like our names: case-insensitively in a CSV header, as
// written in JSON). Pure functions; errors are InvalidArgument.
#ifndef AFFINITY_STORAGE_CATALOG_COLUMNS_H_
#define AFFINITY_STORAGE_CATALOG_COLUMNS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace affinity::storage {

enum class CatalogColumn {
  kItemId, kTitle, kCategories, kBrand, kPrice, kInStock, kCreatedAt, kRegion, kTags,
};

// The column one of our names stands for; nullopt for any other name.
std::optional<CatalogColumn> CatalogColumnNamed(absl::string_view name);
// The CatalogItem field a column fills ("created_at_unix" for created_at).
absl::string_view CatalogFieldOf(CatalogColumn column);
// Our names, for messages: "item_id, title, category, categories, ...".
absl::string_view CatalogColumnList();

class CatalogColumnMap {
 public:
  // No entries: the file uses our names.
  CatalogColumnMap() = default;
  // InvalidArgument "--columns: ..." naming the bad entry: no ':', an empty
  // side, OURS not one of our names, THEIRS given twice, or two entries
  // giving the same column of ours.
  static absl::StatusOr<CatalogColumnMap> Parse(absl::string_view spec);

  bool empty() const { return entries_.empty(); }
  // The file's names (THEIRS, as given) and the columns they hold.
  const std::vector<std::pair<std::string, CatalogColumn>>& entries() const {
    return entries_;
  }
  // The entry for a file's column name (`json`: exact match; else
  // case-insensitive, blanks ignored); -1 when none.
  int Find(absl::string_view file_name, bool json) const;
  // Whether an entry holds `column`.
  bool Holds(CatalogColumn column) const;

 private:
  std::vector<std::pair<std::string, CatalogColumn>> entries_;
};

// How the column names of a file (a CSV header, or one JSON line's keys)
// resolve: a name the map lists gives that entry's column; one of our names
// gives its column unless the map gives that column to another name (then
// the file's column of our name is ignored); any other name is ignored.
struct ResolvedColumns {
  std::vector<std::optional<CatalogColumn>> columns;  // one per name
  std::vector<int> map_entries;  // per name: the map entry it matched, or -1
  std::vector<std::string> ignored;  // the names without a column, in order
};

// InvalidArgument "columns 'a' and 'b' both give item_id, expected ..."
// when two names resolve to one column (callers add the file and line).
absl::StatusOr<ResolvedColumns> ResolveCatalogColumns(absl::Span<const std::string> names,
                                                      const CatalogColumnMap& map, bool json);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_COLUMNS_H_
