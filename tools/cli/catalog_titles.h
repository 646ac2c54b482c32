// Item titles for the CLI's table, read from the catalog of a store
// directory (storage/catalog_store.h).
//
// Contract: OpenCatalogTitles opens DIR's catalog without writing to it (as
// a follower, so a running server may hold the store) and returns a lookup
// that gives an item's title, or "" for an unknown item or a failed read.
// Errors when the catalog cannot be opened; the caller then prints ids only.
#ifndef AFFINITY_TOOLS_CLI_CATALOG_TITLES_H_
#define AFFINITY_TOOLS_CLI_CATALOG_TITLES_H_

#include <string>

#include "absl/status/statusor.h"
#include "tools/cli/response_format.h"

namespace affinity::cli {

absl::StatusOr<TitleLookup> OpenCatalogTitles(const std::string& dir);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_CATALOG_TITLES_H_
