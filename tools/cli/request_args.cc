#include "tools/cli/request_args.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace affinity::cli {
namespace {

absl::Status BadRecent(int entry, absl::string_view text,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--recent entry ", entry, " \"", text,
                   "\": ", why, " (expected item:weight, weight a number >= 0)"));
}

absl::Status BadFilter(int entry, absl::string_view text,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--filters_json entry ", entry, " ", text, ": ", why,
                   " (expected a Filter object such as "
                   "{\"attribute\":\"price\",\"max\":50})"));
}

std::string ToJson(const google::protobuf::Value& value) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
    return "<unprintable>";
  }
  return json;
}

// Protobuf's JSON errors may append a multi-line excerpt; keep the first line.
std::string FirstLine(absl::string_view message) {
  return std::string(absl::StripAsciiWhitespace(
      message.substr(0, std::min(message.find('\n'), message.size()))));
}

// Compact JSON of an entry with object keys sorted, so that error messages
// quote it the same way every time.
std::string EntryText(const google::protobuf::Value& value) {
  if (value.kind_case() != google::protobuf::Value::kStructValue) {
    return ToJson(value);
  }
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [key, field] : value.struct_value().fields()) {
    sorted[key] = &field;
  }
  std::vector<std::string> parts;
  for (const auto& [key, field] : sorted) {
    google::protobuf::Value key_value;
    key_value.set_string_value(key);
    parts.push_back(absl::StrCat(ToJson(key_value), ":", ToJson(*field)));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

// Protobuf's JSON parser also takes "yes" for a bool and a lone value for a
// repeated field; a filter must spell booleans and lists as JSON does.
// Returns the reason for the first such field, or "" when there is none.
std::string LooseJsonValue(const google::protobuf::Struct& object) {
  const google::protobuf::Descriptor* descriptor =
      affinity::v1::Filter::descriptor();
  for (const auto& [key, value] : object.fields()) {
    const google::protobuf::FieldDescriptor* field = nullptr;
    for (int i = 0; i < descriptor->field_count() && field == nullptr; ++i) {
      const google::protobuf::FieldDescriptor* candidate = descriptor->field(i);
      if (candidate->json_name() == key || candidate->name() == key) {
        field = candidate;
      }
    }
    if (field == nullptr) continue;  // the parser names unknown fields
    if (field->is_repeated() &&
        value.kind_case() != google::protobuf::Value::kListValue) {
      return absl::StrCat("\"", key, "\" must be a JSON array");
    }
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_BOOL &&
        value.kind_case() != google::protobuf::Value::kBoolValue) {
      return absl::StrCat("\"", key, "\" must be true or false");
    }
  }
  return "";
}

// One element of the --filters_json array, already parsed as generic JSON.
absl::StatusOr<affinity::v1::Filter> ParseFilterEntry(
    int entry, const google::protobuf::Value& value) {
  const std::string json = EntryText(value);
  if (value.kind_case() != google::protobuf::Value::kStructValue) {
    return BadFilter(entry, json, "not a JSON object");
  }
  if (std::string why = LooseJsonValue(value.struct_value()); !why.empty()) {
    return BadFilter(entry, json, why);
  }
  affinity::v1::Filter filter;
  const auto status =
      google::protobuf::util::JsonStringToMessage(ToJson(value), &filter);
  if (!status.ok()) {
    return BadFilter(entry, json, FirstLine(status.message().ToString()));
  }
  if (filter.attribute().empty()) {
    return BadFilter(entry, json, "\"attribute\" is missing or empty");
  }
  return filter;
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

absl::StatusOr<std::vector<affinity::v1::Filter>> ParseFiltersJson(
    absl::string_view text) {
  std::vector<affinity::v1::Filter> out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  google::protobuf::Value parsed;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(text), &parsed);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--filters_json is not valid JSON: ",
                     FirstLine(status.message().ToString()),
                     " (expected [{\"attribute\":...}, ...])"));
  }
  if (parsed.kind_case() == google::protobuf::Value::kStructValue) {
    absl::StatusOr<affinity::v1::Filter> filter = ParseFilterEntry(1, parsed);
    if (!filter.ok()) return filter.status();
    out.push_back(*std::move(filter));
    return out;
  }
  if (parsed.kind_case() != google::protobuf::Value::kListValue) {
    return absl::InvalidArgumentError(
        "--filters_json must be a JSON array of Filter objects or one Filter "
        "object");
  }
  const auto& values = parsed.list_value().values();
  for (int i = 0; i < values.size(); ++i) {
    absl::StatusOr<affinity::v1::Filter> filter = ParseFilterEntry(i + 1, values[i]);
    if (!filter.ok()) return filter.status();
    out.push_back(*std::move(filter));
  }
  return out;
}

}  // namespace affinity::cli
