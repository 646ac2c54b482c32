#include "tools/cli/request_args.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace affinity::cli {
namespace {

absl::Status BadRecent(int entry, absl::string_view text,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--recent entry ", entry, " \"", text,
                   "\": ", why, " (expected item:weight, weight a number >= 0)"));
}

}  // namespace

absl::StatusOr<std::vector<affinity::v1::Interaction>> ParseRecent(
    absl::string_view text) {
  std::vector<affinity::v1::Interaction> out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  int entry = 0;
  for (absl::string_view raw : absl::StrSplit(text, ',')) {
    ++entry;
    const absl::string_view part = absl::StripAsciiWhitespace(raw);
    if (part.empty()) return BadRecent(entry, raw, "empty entry");
    const size_t colon = part.rfind(':');
    if (colon == absl::string_view::npos) {
      return BadRecent(entry, part, "missing ':weight'");
    }
    const absl::string_view item =
        absl::StripAsciiWhitespace(part.substr(0, colon));
    const absl::string_view weight_text =
        absl::StripAsciiWhitespace(part.substr(colon + 1));
    if (item.empty()) return BadRecent(entry, part, "empty item id");
    float weight = 0;
    if (!absl::SimpleAtof(weight_text, &weight)) {
      return BadRecent(entry, part, "weight is not a number");
    }
    if (!std::isfinite(weight) || weight < 0) {
      return BadRecent(entry, part, "weight must be finite and >= 0");
    }
    affinity::v1::Interaction& interaction = out.emplace_back();
    interaction.set_item_id(std::string(item));
    interaction.set_weight(weight);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseIdList(
    absl::string_view text, absl::string_view flag_name) {
  std::vector<std::string> out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  int entry = 0;
  for (absl::string_view raw : absl::StrSplit(text, ',')) {
    ++entry;
    const absl::string_view id = absl::StripAsciiWhitespace(raw);
    if (id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag_name, " entry ", entry, " is empty (expected id[,id...])"));
    }
    out.emplace_back(id);
  }
  return out;
}

}  // namespace affinity::cli
