#include "storage/catalog_parsers.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "storage/catalog_store.h"
#include "storage/csv_reader.h"
#include "storage/utf8.h"

namespace affinity::storage {
namespace {

using affinity::v1::CatalogItem;

absl::Status LineError(absl::string_view name, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ":", line, ": ", what));
}

// Rejects empty and repeated ids, remembering where each id was first seen.
class IdChecker {
 public:
  explicit IdChecker(absl::string_view name) : name_(name) {}
  absl::Status Check(absl::string_view id, int line) {
    if (id.empty()) {
      return LineError(name_, line, "empty item_id, expected an id");
    }
    auto [it, inserted] = first_line_.emplace(std::string(id), line);
    if (!inserted) {
      return LineError(name_, line,
                       absl::StrCat("duplicate item_id '", id,
                                    "', expected unique ids (first on line ",
                                    it->second, ")"));
    }
    return absl::OkStatus();
  }

 private:
  absl::string_view name_;
  absl::flat_hash_map<std::string, int> first_line_;
};

absl::Status CheckUtf8(absl::string_view field, absl::string_view value,
                       absl::string_view name, int line) {
  if (IsValidUtf8(value)) return absl::OkStatus();
  return LineError(name, line,
                   absl::StrCat(field, " is not valid UTF-8 (", InvalidUtf8Position(value),
                                "), ", kUtf8Expectation));
}

// Every text field is valid UTF-8 (clients read them as proto3 strings),
// and the id has no NUL byte.
absl::Status CheckText(const CatalogItem& item, absl::string_view name, int line) {
  if (const size_t nul = FindNul(item.item_id()); nul != absl::string_view::npos) {
    return LineError(name, line,
                     absl::StrCat("item_id contains a NUL byte (offset ", nul,
                                  "), expected an id without NUL bytes"));
  }
  for (const auto& [field, value] :
       {std::pair<absl::string_view, absl::string_view>{"item_id", item.item_id()},
        {"title", item.title()},
        {"brand", item.brand()},
        {"region", item.region()}}) {
    if (absl::Status s = CheckUtf8(field, value, name, line); !s.ok()) return s;
  }
  for (const auto& [field, values] :
       {std::pair<absl::string_view, const google::protobuf::RepeatedPtrField<std::string>*>{
            "categories", &item.categories()},
        {"tags", &item.tags()}}) {
    for (int i = 0; i < values->size(); ++i) {
      if (absl::Status s = CheckUtf8(absl::StrCat(field, "[", i, "]"), values->Get(i), name, line);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

void AddValues(absl::string_view field,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  for (absl::string_view value : absl::StrSplit(field, '|')) {
    value = absl::StripAsciiWhitespace(value);
    if (!value.empty()) out->Add(std::string(value));
  }
}

std::optional<bool> ParseBool(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "y") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "n") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseCreatedAt(absl::string_view text) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) return seconds;
  absl::Time time;
  std::string error;
  if (text.size() == 10 &&
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return absl::ToUnixSeconds(time);
  }
  return std::nullopt;
}

absl::Status SetField(CatalogColumn column, absl::string_view value, CatalogItem* item,
                      absl::string_view name, int line) {
  switch (column) {
    case CatalogColumn::kItemId:
      item->set_item_id(std::string(value));
      break;
    case CatalogColumn::kTitle:
      item->set_title(std::string(value));
      break;
    case CatalogColumn::kCategories:
      AddValues(value, item->mutable_categories());
      break;
    case CatalogColumn::kBrand:
      item->set_brand(std::string(value));
      break;
    case CatalogColumn::kRegion:
      item->set_region(std::string(value));
      break;
    case CatalogColumn::kTags:
      AddValues(value, item->mutable_tags());
      break;
    case CatalogColumn::kPrice: {
      if (value.empty()) break;  // no price
      double price = 0;
      if (!absl::SimpleAtod(value, &price) || !std::isfinite(price)) {
        return LineError(name, line,
                         absl::StrCat("price '", value, "', expected a finite number"));
      }
      item->set_price(price);
      break;
    }
    case CatalogColumn::kInStock: {
      if (value.empty()) {
        return LineError(name, line,
                         "in_stock is empty, expected true, false, 1, 0, yes or no (leave "
                         "the column out of the file to keep the stored values)");
      }
      std::optional<bool> in_stock = ParseBool(value);
      if (!in_stock.has_value()) {
        return LineError(name, line,
                         absl::StrCat("in_stock '", value,
                                      "', expected true, false, 1, 0, yes or no"));
      }
      item->set_in_stock(*in_stock);
      break;
    }
    case CatalogColumn::kCreatedAt: {
      std::optional<int64_t> created = value.empty() ? 0 : ParseCreatedAt(value);
      if (!created.has_value()) {
        return LineError(name, line,
                         absl::StrCat("created_at '", value,
                                      "', expected Unix seconds or YYYY-MM-DD"));
      }
      item->set_created_at_unix(*created);
      break;
    }
  }
  return absl::OkStatus();
}

// The year of a title ending in "(YYYY)".
std::optional<int> TitleYear(absl::string_view title) {
  title = absl::StripTrailingAsciiWhitespace(title);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') {
    return std::nullopt;
  }
  int year = 0;
  absl::string_view digits = title.substr(title.size() - 5, 4);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (!absl::SimpleAtoi(digits, &year)) return std::nullopt;
  return year;
}

}  // namespace

absl::StatusOr<CatalogFileRows> ParseCatalogCsv(absl::string_view text, absl::string_view name,
                                                const CatalogColumnMap& columns) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, name);
  if (!records.ok()) return records.status();
  if (records->empty()) {
    return LineError(name, 1, absl::StrCat("empty file, expected a header naming "
                                            "item_id and other columns among ",
                                            CatalogColumnList()));
  }
  const CsvRecord& header = records->front();
  absl::StatusOr<ResolvedColumns> resolved =
      ResolveCatalogColumns(header.fields, columns, /*json=*/false);
  if (!resolved.ok()) return LineError(name, header.line, resolved.status().message());
  for (size_t e = 0; e < columns.entries().size(); ++e) {
    if (absl::c_find(resolved->map_entries, static_cast<int>(e)) ==
        resolved->map_entries.end()) {
      return LineError(name, header.line,
                       absl::StrCat("--columns names '", columns.entries()[e].first,
                                    "', which is not a column of the file, expected one of: ",
                                    absl::StrJoin(header.fields, ", ")));
    }
  }
  if (absl::c_find(resolved->columns, CatalogColumn::kItemId) == resolved->columns.end()) {
    return LineError(name, header.line,
                     "no item_id column, expected a header naming item_id (or "
                     "--columns=THEIRS:item_id naming the file's id column)");
  }
  CatalogFileRows out;
  out.ignored_columns = resolved->ignored;
  google::protobuf::FieldMask fields;
  for (const std::optional<CatalogColumn>& column : resolved->columns) {
    if (column.has_value()) fields.add_paths(std::string(CatalogFieldOf(*column)));
  }

  out.rows.reserve(records->size() - 1);
  IdChecker ids(name);
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    if (record.fields.size() != resolved->columns.size()) {
      return LineError(name, record.line,
                       absl::StrCat(record.fields.size(), " fields, expected ",
                                    resolved->columns.size(), " as in the header"));
    }
    CatalogPatch patch;
    patch.fields = fields;
    for (size_t c = 0; c < resolved->columns.size(); ++c) {
      if (!resolved->columns[c].has_value()) continue;
      const absl::string_view value = absl::StripAsciiWhitespace(record.fields[c]);
      if (absl::Status s = SetField(*resolved->columns[c], value, &patch.item, name, record.line);
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = CheckText(patch.item, name, record.line); !s.ok()) return s;
    if (absl::Status s = ids.Check(patch.item.item_id(), record.line); !s.ok()) return s;
    out.rows.push_back(std::move(patch));
  }
  return out;
}

absl::StatusOr<CatalogFileRows> ParseMovieLensMovies(absl::string_view text,
                                                     absl::string_view name) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, name);
  if (!records.ok()) return records.status();
  if (records->empty() ||
      absl::StrJoin(records->front().fields, ",") != "movieId,title,genres") {
    return LineError(name, 1, "expected the header movieId,title,genres");
  }
  google::protobuf::FieldMask fields;
  for (const char* field : {"item_id", "title", "categories", "created_at_unix"}) {
    fields.add_paths(field);
  }
  CatalogFileRows out;
  out.rows.reserve(records->size() - 1);
  IdChecker ids(name);
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    if (record.fields.size() != 3) {
      return LineError(name, record.line,
                       absl::StrCat(record.fields.size(),
                                    " fields, expected 3 (movieId,title,genres)"));
    }
    CatalogPatch patch;
    patch.fields = fields;
    CatalogItem& item = patch.item;
    item.set_item_id(std::string(absl::StripAsciiWhitespace(record.fields[0])));
    if (absl::Status s = ids.Check(item.item_id(), record.line); !s.ok()) return s;
    item.set_title(std::string(absl::StripAsciiWhitespace(record.fields[1])));
    if (record.fields[2] != "(no genres listed)") {
      AddValues(record.fields[2], item.mutable_categories());
    }
    if (std::optional<int> year = TitleYear(item.title()); year.has_value()) {
      item.set_created_at_unix(absl::ToUnixSeconds(
          absl::FromCivil(absl::CivilDay(*year, 1, 1), absl::UTCTimeZone())));
    }
    if (absl::Status s = CheckText(item, name, record.line); !s.ok()) return s;
    out.rows.push_back(std::move(patch));
  }
  return out;
}

absl::StatusOr<CatalogFileRows> ParseCatalogJsonLines(absl::string_view text,
                                                      absl::string_view name,
                                                      const CatalogColumnMap& columns) {
  CatalogFileRows out;
  absl::flat_hash_set<std::string> ignored;
  std::vector<bool> entry_used(columns.entries().size());
  IdChecker ids(name);
  int line = 0;
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    ++line;
    row = absl::StripAsciiWhitespace(row);
    if (line == 1) absl::ConsumePrefix(&row, "\xEF\xBB\xBF");
    if (row.empty()) continue;
    // Raw bytes inside JSON strings: say where, before the JSON parser
    // rejects the line less clearly.
    if (const size_t bad = FindInvalidUtf8(row); bad != absl::string_view::npos) {
      return LineError(name, line,
                       absl::StrFormat("byte 0x%02X at column %d is not valid UTF-8, %s",
                                       static_cast<unsigned char>(row[bad]), bad + 1,
                                       kUtf8Expectation));
    }
    auto json_error = [&](const google::protobuf::util::Status& status) {
      return LineError(name, line,
                       absl::StrCat(std::string(status.message().data(), status.message().size()),
                                    ", expected one CatalogItem JSON object per line"));
    };
    // The line's keys first: they say which fields the line sets.
    google::protobuf::Struct object;
    if (auto status = google::protobuf::util::JsonStringToMessage(std::string(row), &object);
        !status.ok()) {
      return json_error(status);
    }
    std::vector<std::string> keys;
    for (const auto& [key, value] : object.fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    absl::StatusOr<ResolvedColumns> resolved =
        ResolveCatalogColumns(keys, columns, /*json=*/true);
    if (!resolved.ok()) return LineError(name, line, resolved.status().message());

    CatalogPatch patch;
    bool as_written = true;  // every key is a CatalogItem field's own name
    google::protobuf::Struct renamed;
    for (size_t k = 0; k < keys.size(); ++k) {
      const std::optional<CatalogColumn>& column = resolved->columns[k];
      if (resolved->map_entries[k] >= 0) entry_used[resolved->map_entries[k]] = true;
      if (!column.has_value()) {
        if (ignored.insert(keys[k]).second) out.ignored_columns.push_back(keys[k]);
        as_written = false;
        continue;
      }
      const google::protobuf::Value& value = object.fields().at(keys[k]);
      if (*column == CatalogColumn::kInStock &&
          value.kind_case() == google::protobuf::Value::kNullValue) {
        return LineError(name, line,
                         absl::StrCat(keys[k], " is null, expected true or false (leave the key "
                                               "out to keep the stored value)"));
      }
      const std::string field(CatalogFieldOf(*column));
      as_written &= resolved->map_entries[k] < 0;
      patch.fields.add_paths(field);
      (*renamed.mutable_fields())[field] = value;
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    std::string json(row);
    if (!as_written) {
      // Renamed or dropped keys: parse the object with the fields' names.
      json.clear();
      if (auto status = google::protobuf::util::MessageToJsonString(renamed, &json);
          !status.ok()) {
        return json_error(status);
      }
    }
    if (auto status = google::protobuf::util::JsonStringToMessage(json, &patch.item, options);
        !status.ok()) {
      return json_error(status);
    }
    const CatalogItem& item = patch.item;
    if (absl::Status s = CheckText(item, name, line); !s.ok()) return s;
    if (absl::Status s = ids.Check(item.item_id(), line); !s.ok()) return s;
    if (absl::Status s = CheckCatalogItem(item); !s.ok()) return LineError(name, line, s.message());
    out.rows.push_back(std::move(patch));
  }
  for (size_t e = 0; e < entry_used.size(); ++e) {
    if (!entry_used[e]) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": --columns names '", columns.entries()[e].first,
                       "', which no line of the file has as a key"));
    }
  }
  return out;
}

}  // namespace affinity::storage
