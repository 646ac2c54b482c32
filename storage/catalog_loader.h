// Loads a catalog file (CSV, MovieLens movies.csv or JSON Lines; see
// catalog_parsers.h) into a CatalogStore. Nothing is written unless the
// whole file parses: the file is parsed completely, then written in one
// batch.
#ifndef AFFINITY_STORAGE_CATALOG_LOADER_H_
#define AFFINITY_STORAGE_CATALOG_LOADER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
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

// Reads and parses the whole file. NotFound when it cannot be read;
// InvalidArgument "PATH:LINE: ..." on the first bad row.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ReadCatalogFile(
    const std::string& path, CatalogFormat format = CatalogFormat::kAuto);

// ReadCatalogFile, then one Upsert of every item. Returns the number of
// items loaded.
absl::StatusOr<int64_t> LoadCatalogFile(const std::string& path, CatalogStore& store,
                                        CatalogFormat format = CatalogFormat::kAuto);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CATALOG_LOADER_H_
