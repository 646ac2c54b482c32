// Renders a RecommendResponse for people (a table) or programs (JSON).
//
// Contract:
//  - FormatTable starts with a line naming the model version, the A/B arm and
//    whether a fallback contributed, then one row per item in response order:
//    rank (1-based), item id, score (4 decimals), a "*" marker for items added
//    by the fallback, the title given by `titles` (empty when unknown) and,
//    when `explain`, the item's explanation. A response with no items says so.
//  - FormatJson is the proto3 JSON mapping of the response (field names in
//    lowerCamelCase, fields at default values included), one object on one line.
#ifndef AFFINITY_TOOLS_CLI_RESPONSE_FORMAT_H_
#define AFFINITY_TOOLS_CLI_RESPONSE_FORMAT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/recommender.pb.h"

namespace affinity::cli {

// Returns the title of an item, or "" when unknown.
using TitleLookup = std::function<std::string(absl::string_view item_id)>;

std::string FormatTable(const affinity::v1::RecommendResponse& response,
                        const TitleLookup& titles, bool explain);

absl::StatusOr<std::string> FormatJson(
    const affinity::v1::RecommendResponse& response);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_RESPONSE_FORMAT_H_
