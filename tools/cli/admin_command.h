// `affinity admin upsert|delete`: catalog writes through the server's
// affinity.v1.CatalogAdmin service (its admin port, 127.0.0.1:50052 by
// default). Items are given as JSON CatalogItem objects (protobuf's JSON
// mapping: {"itemId": "1", "inStock": false, ...}).
//
// Contract: returns the process exit code (0 ok; 2 bad usage or an
// INVALID_ARGUMENT answer; 1 other failures) after printing the outcome.
#ifndef AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_
#define AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "tools/cli/connection.h"

namespace affinity::cli {

// One CatalogItem per non-empty line (JSON Lines) or one JSON object.
// InvalidArgument "<source>:<line>: ..." on the first bad item.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogItemsJson(
    absl::string_view text, absl::string_view source);

// Upserts `items` / deletes `item_ids` through the admin service.
// Calls carry `connection`'s credentials and admin token.
int RunAdminUpsert(const std::string& admin_server, int timeout_ms,
                   const std::vector<affinity::v1::CatalogItem>& items,
                   const Connection& connection = Connection());
int RunAdminDelete(const std::string& admin_server, int timeout_ms,
                   const std::vector<std::string>& item_ids,
                   const Connection& connection = Connection());

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_
