// Parsers of catalog file contents into patches of CatalogItems (see
// catalog_store.h), one per row, each naming the fields the file gives for
// its item, so that a load can update those fields alone. Each parses the
// whole text or fails on the first bad row with InvalidArgument
// "NAME:LINE: what, expected what" (NAME is the file name given). Item ids
// must be non-empty and unique within a file, without NUL bytes; every text
// field must be valid UTF-8 (storage/utf8.h), the error naming the field
// ("title", "tags[1]") or, in JSON Lines, the column of the bad byte. A
// UTF-8 byte order mark at the start of the text is skipped. Column names
// and the column map: catalog_columns.h. Pure functions.
#ifndef AFFINITY_STORAGE_CATALOG_PARSERS_H_
#define AFFINITY_STORAGE_CATALOG_PARSERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "storage/catalog_columns.h"
#include "storage/catalog_store.h"

namespace affinity::storage {

// A parsed catalog file: one patch per item in file order, and the file's
// column names (CSV) or keys (JSON Lines) that hold no catalog column and
// were ignored, each once, in the order first seen.
struct CatalogFileRows {
  std::vector<CatalogPatch> rows;
  std::vector<std::string> ignored_columns;
};

// CSV with a header row naming columns (catalog_columns.h), in any order,
// item_id required (RFC 4180 quoting, see csv_reader.h). Each row's patch
// names the columns the header has. categories and tags hold several values
// separated by '|'. in_stock is true/false/1/0/yes/no. created_at is Unix
// seconds or a YYYY-MM-DD date (UTC midnight). An empty cell clears the
// field (no price, no title, no categories, created_at 0), except in_stock,
// where it is an error. Columns that are not ours, and not in `columns`,
// are ignored; an entry of `columns` naming no column of the header is an
// error.
absl::StatusOr<CatalogFileRows> ParseCatalogCsv(absl::string_view text, absl::string_view name,
                                                const CatalogColumnMap& columns = {});

// MovieLens movies.csv: header "movieId,title,genres". Patches title,
// categories and created_at_unix: categories = genres split on '|' ("(no
// genres listed)" gives none); created_at = January 1st (UTC) of the year
// in parentheses ending the title, 0 without one.
absl::StatusOr<CatalogFileRows> ParseMovieLensMovies(absl::string_view text,
                                                     absl::string_view name);

// JSON Lines: one affinity.v1.CatalogItem JSON object per line (proto3
// JSON mapping: "itemId" or "item_id", "inStock", ...); blank lines are
// skipped. Each line's patch names the keys the line has (a key absent
// from a line leaves that field as stored); null clears a field, except
// inStock, where it is an error, as is a price that is not finite ("NaN",
// "Infinity"). Keys that are not CatalogItem fields, and not in `columns`,
// are ignored; an entry of `columns` naming a key no line has is an error.
absl::StatusOr<CatalogFileRows> ParseCatalogJsonLines(absl::string_view text,
                                                      absl::string_view name,
                                                      const CatalogColumnMap& columns = {});

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_PARSERS_H_
