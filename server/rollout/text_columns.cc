#include "server/rollout/text_columns.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace affinity::server::rollout {

std::string FormatColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right) {
  std::vector<size_t> widths(right.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string text;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) text += "  ";
      const size_t width = i < widths.size() ? widths[i] : row[i].size();
      const std::string pad(width - row[i].size(), ' ');
      text += i < right.size() && right[i] ? pad + row[i] : row[i] + pad;
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(text), "\n");
  }
  return out;
}

}  // namespace affinity::server::rollout
