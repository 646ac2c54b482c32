#include "storage/catalog_columns.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace affinity::storage {
namespace {

struct ColumnNames {
  CatalogColumn column;
  absl::string_view field;      // CatalogItem field name
  absl::string_view json_name;  // its proto3 JSON name
};

constexpr ColumnNames kColumns[] = {
    {CatalogColumn::kItemId, "item_id", "itemId"},
    {CatalogColumn::kTitle, "title", "title"},
    {CatalogColumn::kCategories, "categories", "categories"},
    {CatalogColumn::kBrand, "brand", "brand"},
    {CatalogColumn::kPrice, "price", "price"},
    {CatalogColumn::kInStock, "in_stock", "inStock"},
    {CatalogColumn::kCreatedAt, "created_at_unix", "createdAtUnix"},
    {CatalogColumn::kRegion, "region", "region"},
    {CatalogColumn::kTags, "tags", "tags"},
};

std::string Normalized(absl::string_view name) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
}

// A JSON key: a CatalogItem field name or JSON name, as written.
std::optional<CatalogColumn> JsonKeyColumn(absl::string_view key) {
  for (const ColumnNames& names : kColumns) {
    if (key == names.field || key == names.json_name) return names.column;
  }
  return std::nullopt;
}

std::string ColumnName(CatalogColumn column) {
  return column == CatalogColumn::kCreatedAt ? "created_at" : std::string(CatalogFieldOf(column));
}

}  // namespace

std::optional<CatalogColumn> CatalogColumnNamed(absl::string_view name) {
  const std::string lower = Normalized(name);
  if (lower == "category") return CatalogColumn::kCategories;
  if (lower == "created_at") return CatalogColumn::kCreatedAt;
  if (lower == "created_at_unix") return std::nullopt;
  for (const ColumnNames& names : kColumns) {
    if (lower == names.field) return names.column;
  }
  return std::nullopt;
}

absl::string_view CatalogFieldOf(CatalogColumn column) {
  for (const ColumnNames& names : kColumns) {
    if (names.column == column) return names.field;
  }
  return "";
}

absl::string_view CatalogColumnList() {
  return "item_id, title, category, categories, brand, price, in_stock, created_at, region, "
         "tags";
}

absl::StatusOr<CatalogColumnMap> CatalogColumnMap::Parse(absl::string_view spec) {
  CatalogColumnMap map;
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    const size_t colon = entry.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--columns: '", entry, "' has no ':', expected THEIRS:OURS, e.g. sku:item_id"));
    }
    const absl::string_view theirs = absl::StripAsciiWhitespace(entry.substr(0, colon));
    const absl::string_view ours = absl::StripAsciiWhitespace(entry.substr(colon + 1));
    if (theirs.empty() || ours.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--columns: '", entry, "' has an empty side, expected THEIRS:OURS, e.g. sku:item_id"));
    }
    std::optional<CatalogColumn> column = CatalogColumnNamed(ours);
    if (!column.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("--columns: '", entry, "': '", ours,
                                                     "' is not a catalog column, expected one of ",
                                                     CatalogColumnList()));
    }
    for (const auto& [seen_theirs, seen_column] : map.entries_) {
      if (Normalized(seen_theirs) == Normalized(theirs)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--columns: '", theirs, "' is mapped twice, expected each file column once"));
      }
      if (seen_column == *column) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--columns: '", seen_theirs, "' and '", theirs, "' both map to ",
            ColumnName(*column), ", expected one file column per catalog column"));
      }
    }
    map.entries_.emplace_back(std::string(theirs), *column);
  }
  return map;
}

int CatalogColumnMap::Find(absl::string_view file_name, bool json) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const bool match = json ? file_name == entries_[i].first
                            : Normalized(file_name) == Normalized(entries_[i].first);
    if (match) return static_cast<int>(i);
  }
  return -1;
}

bool CatalogColumnMap::Holds(CatalogColumn column) const {
  for (const auto& entry : entries_) {
    if (entry.second == column) return true;
  }
  return false;
}

absl::StatusOr<ResolvedColumns> ResolveCatalogColumns(absl::Span<const std::string> names,
                                                      const CatalogColumnMap& map, bool json) {
  ResolvedColumns resolved;
  for (const std::string& name : names) {
    const int entry = map.Find(name, json);
    std::optional<CatalogColumn> column;
    if (entry >= 0) {
      column = map.entries()[entry].second;
    } else {
      column = json ? JsonKeyColumn(name) : CatalogColumnNamed(name);
      if (column.has_value() && map.Holds(*column)) column.reset();
    }
    if (!column.has_value()) resolved.ignored.push_back(name);
    for (size_t i = 0; column.has_value() && i < resolved.columns.size(); ++i) {
      if (resolved.columns[i] == column) {
        return absl::InvalidArgumentError(absl::StrCat(
            json ? "keys '" : "columns '", names[i], "' and '", name, "' both give ",
            ColumnName(*column), ", expected each column once"));
      }
    }
    resolved.columns.push_back(column);
    resolved.map_entries.push_back(entry);
  }
  return resolved;
}

}  // namespace affinity::storage
