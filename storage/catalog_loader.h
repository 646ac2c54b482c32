// Loads a catalog file (CSV, MovieLens movies.csv or JSON Lines; see
// catalog_parsers.h) into a CatalogStore. Nothing is written unless the
// whole file parses: the file is parsed completely, then written in one
// batch (CatalogStore::Patch or Replace), all or nothing.
#ifndef AFFINITY_STORAGE_CATALOG_LOADER_H_
#define AFFINITY_STORAGE_CATALOG_LOADER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/catalog_columns.h"
#include "storage/catalog_parsers.h"
#include "storage/catalog_store.h"

namespace affinity::storage {

enum class CatalogFormat {
  // .jsonl/.ndjson/.json files are JSON Lines; a file whose first line is
  // "movieId,title,genres" is MovieLens; anything else is CSV with a header.
  kAuto,
  kCsv,
  kMovieLens,
  kJsonLines,
};

struct CatalogReadOptions {
  CatalogFormat format = CatalogFormat::kAuto;
  // The file's own column names (catalog_columns.h); CSV and JSON Lines
  // only: InvalidArgument with a MovieLens file.
  CatalogColumnMap columns;
};

enum class CatalogLoadMode {
  // Each item's columns present in the file are written; the others keep
  // their stored values (an item not in the catalog gets NewCatalogItem's).
  kUpdate,
  // The catalog becomes the file: columns absent from it take their
  // defaults, and items absent from it are removed.
  kReplace,
};

// Reads and parses the whole file. NotFound when it cannot be read;
// InvalidArgument "PATH:LINE: ..." on the first bad row.
absl::StatusOr<CatalogFileRows> ReadCatalogFile(const std::string& path,
                                                const CatalogReadOptions& options = {});

// Writes a parsed file in one batch. kReplace with no rows is refused
// (InvalidArgument "PATH: no items, ...": it would empty the catalog).
absl::StatusOr<CatalogWriteCounts> WriteCatalogRows(const std::string& path,
                                                    const CatalogFileRows& file,
                                                    CatalogStore& store, CatalogLoadMode mode);

// ReadCatalogFile, then WriteCatalogRows.
absl::StatusOr<CatalogWriteCounts> LoadCatalogFile(const std::string& path, CatalogStore& store,
                                                   const CatalogReadOptions& options = {},
                                                   CatalogLoadMode mode = CatalogLoadMode::kUpdate);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_LOADER_H_
