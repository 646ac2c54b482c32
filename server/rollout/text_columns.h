// Plain-text tables for terminals and logs: rows of cells joined by two
// spaces, each column padded to its widest cell (counted in bytes: cells are
// expected to be ASCII), trailing spaces trimmed. Used by the per-arm
// outcome table and `affinity rollout show`. Pure function.
#ifndef AFFINITY_SERVER_ROLLOUT_TEXT_COLUMNS_H_
#define AFFINITY_SERVER_ROLLOUT_TEXT_COLUMNS_H_

#include <string>
#include <vector>

namespace affinity::server::rollout {

// `right[i]` right-aligns column i; rows may be shorter than `right`.
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right);

}  // namespace affinity::server::rollout

#endif  // AFFINITY_SERVER_ROLLOUT_TEXT_COLUMNS_H_
