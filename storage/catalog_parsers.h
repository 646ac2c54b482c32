// Parsers of catalog file contents into CatalogItems, one per format. Each
// parses the whole text or fails on the first bad row with InvalidArgument
// "NAME:LINE: what, expected what" (NAME is the file name given). Item ids
// must be non-empty and unique within a file, without NUL bytes; every text
// field must be valid UTF-8 (storage/utf8.h), the error naming the field
// ("title", "tags[1]") or, in JSON Lines, the column of the bad byte. A
// UTF-8 byte order mark at the start of the text is skipped.
#ifndef AFFINITY_STORAGE_CATALOG_PARSERS_H_
#define AFFINITY_STORAGE_CATALOG_PARSERS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"

namespace affinity::storage {

// CSV with a header row naming some of the columns item_id (required),
// title, category or categories, brand, price, in_stock, created_at,
// region, tags, in any order (RFC 4180 quoting, see csv_reader.h).
// categories and tags hold several values separated by '|'. in_stock is
// true/false/1/0/yes/no, true when empty or absent. created_at is Unix
// seconds or a YYYY-MM-DD date (UTC midnight), 0 when empty. price is a
// finite number (NaN and infinities are errors), unset when empty.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogCsv(
    absl::string_view text, absl::string_view name);

// MovieLens movies.csv: header "movieId,title,genres". categories = genres
// split on '|' ("(no genres listed)" gives none); created_at = January 1st
// (UTC) of the year in parentheses ending the title, when there is one;
// in_stock = true.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseMovieLensMovies(
    absl::string_view text, absl::string_view name);

// JSON Lines: one affinity.v1.CatalogItem JSON object per line (proto3
// JSON mapping: "itemId" or "item_id", "inStock", ...); blank lines are
// skipped, unknown fields are errors, and so is a price that is not finite
// ("NaN", "Infinity"); an item without "price" has none.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogJsonLines(
    absl::string_view text, absl::string_view name);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_PARSERS_H_
