#include "tools/cli/response_format.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace affinity::cli {
namespace {

// Characters shown, counting each UTF-8 sequence once.
size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

// text left-aligned in a field of `width` displayed characters.
std::string PadRight(absl::string_view text, size_t width) {
  std::string out(text);
  const size_t shown = DisplayWidth(text);
  if (shown < width) out.append(width - shown, ' ');
  return out;
}

}  // namespace

std::string FormatTable(const affinity::v1::RecommendResponse& response,
                        const TitleLookup& titles, bool explain) {
  std::string out = absl::StrCat(
      "model_version: ", response.model_version(), "  arm: ",
      response.arm().empty() ? "-" : response.arm(),
      "  fallback: ", response.fallback() ? "yes" : "no",
      response.request_id().empty() ? "" : "  request_id: ", response.request_id(), "\n");
  if (response.items().empty()) {
    absl::StrAppend(&out, "(no items)\n");
    return out;
  }

  struct Row {
    std::string rank, id, score, marker, title, explanation;
  };
  std::vector<Row> rows;
  rows.push_back({"rank", "item_id", "score", "fb", "title", "explanation"});
  int rank = 0;
  for (const affinity::v1::ScoredItem& item : response.items()) {
    rows.push_back({absl::StrCat(++rank), item.item_id(),
                    absl::StrFormat("%.4f", item.score()),
                    item.from_fallback() ? "*" : "",
                    titles ? titles(item.item_id()) : std::string(),
                    item.explanation()});
  }
  size_t rank_w = 0, id_w = 0, score_w = 0, title_w = 0;
  for (const Row& row : rows) {
    rank_w = std::max(rank_w, row.rank.size());
    id_w = std::max(id_w, DisplayWidth(row.id));
    score_w = std::max(score_w, row.score.size());
    title_w = std::max(title_w, DisplayWidth(row.title));
  }
  for (const Row& row : rows) {
    std::string line = absl::StrFormat("%*s  %s  %*s  %-2s  %s", rank_w, row.rank,
                                       PadRight(row.id, id_w), score_w, row.score,
                                       row.marker, PadRight(row.title, title_w));
    if (explain) absl::StrAppend(&line, "  ", row.explanation);
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  if (response.fallback()) {
    absl::StrAppend(&out, "fb * = added by the most-popular fallback\n");
  }
  return out;
}

absl::StatusOr<std::string> FormatJson(
    const affinity::v1::RecommendResponse& response) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(response, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("RecommendResponse to JSON: ", status.ToString()));
  }
  return json;
}

}  // namespace affinity::cli
