// Parsing of the CLI's list-valued flags into request fields.
//
// Contract:
//  - ParseRecent accepts "item:weight[,item:weight...]". The weight follows
//    the last ':' of an entry (so item ids may contain ':'), must be a finite
//    number >= 0, and the item id must be non-empty. Whitespace around ids and
//    weights is ignored. An empty string yields an empty list.
//  - ParseIdList accepts "a[,b...]"; ids are trimmed and must be non-empty.
//  - ParseFiltersJson accepts a JSON array of affinity.v1.Filter objects in
//    protobuf's JSON mapping (e.g. [{"attribute":"price","max":50}]) or one
//    such object alone. Unknown field names, wrong value types and entries
//    without an "attribute" are rejected; whether the attribute and its
//    conditions make sense is checked by the server. An empty (or
//    all-whitespace) string yields an empty list.
//  - Errors are InvalidArgument and name the flag, the 1-based entry number
//    and the offending text.
#ifndef AFFINITY_TOOLS_CLI_REQUEST_ARGS_H_
#define AFFINITY_TOOLS_CLI_REQUEST_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/recommender.pb.h"
#include "affinity/v1/rules.pb.h"

namespace affinity::cli {

absl::StatusOr<std::vector<affinity::v1::Interaction>> ParseRecent(
    absl::string_view text);

// flag_name is used in error messages, e.g. "--exclude".
absl::StatusOr<std::vector<std::string>> ParseIdList(absl::string_view text,
                                                     absl::string_view flag_name);

absl::StatusOr<std::vector<affinity::v1::Filter>> ParseFiltersJson(
    absl::string_view text);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_REQUEST_ARGS_H_
