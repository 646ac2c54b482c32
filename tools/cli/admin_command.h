// `affinity admin upsert|delete`: catalog writes through the server's
// affinity.v1.CatalogAdmin service (its admin port, 127.0.0.1:50052 by
// default). Items are given as JSON CatalogItem objects (protobuf's JSON
// mapping: {"itemId": "1", "inStock": false, ...}); an upsert writes only
// the fields whose keys an object gives (the request's update masks), or
// with --replace_items the whole items.
//
// Contract: returns the process exit code (0 ok; 2 bad usage or an
// INVALID_ARGUMENT answer; 1 other failures) after printing the outcome.
#ifndef AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_
#define AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/model.pb.h"
#include "tools/cli/connection.h"

namespace affinity::cli {

// One CatalogItem per non-empty line (JSON Lines) or one JSON object.
// InvalidArgument "<source>:<line>: ..." on the first bad item.
absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogItemsJson(
    absl::string_view text, absl::string_view source);

// The upsert of the JSON objects of `text` (as ParseCatalogItemsJson reads
// them): one ItemUpdate per object whose update_mask names the fields of
// the keys it gives besides itemId (proto or JSON names; a key with null
// clears its field), in order; `replace_items`: the objects as whole items
// (`items`, no mask: every field not given is cleared). InvalidArgument
// "<source>:<line>: ..." for a bad object, or one giving no key but itemId
// (without replace_items).
absl::StatusOr<affinity::v1::UpsertItemsRequest> ParseUpsertRequestJson(
    absl::string_view text, absl::string_view source, bool replace_items);

// Sends `request` / deletes `item_ids` through the admin service.
// Calls carry `connection`'s credentials and admin token.
int RunAdminUpsert(const std::string& admin_server, int timeout_ms,
                   const affinity::v1::UpsertItemsRequest& request,
                   const Connection& connection = Connection());
int RunAdminDelete(const std::string& admin_server, int timeout_ms,
                   const std::vector<std::string>& item_ids,
                   const Connection& connection = Connection());

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ADMIN_COMMAND_H_
