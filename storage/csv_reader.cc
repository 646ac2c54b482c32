#include "storage/csv_reader.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace affinity::storage {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text,
                                                absl::string_view name) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRecord> records;
  int line = 1;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    // Blank lines separate nothing.
    if (text[i] == '\n' || text[i] == '\r') {
      if (text[i] == '\n') ++line;
      ++i;
      continue;
    }
    CsvRecord record;
    record.line = line;
    std::string field;
    bool end_of_record = false;
    while (!end_of_record) {
      field.clear();
      if (i < n && text[i] == '"') {
        const int quote_line = line;
        ++i;
        while (true) {
          if (i >= n) {
            return absl::InvalidArgumentError(absl::StrCat(
                name, ":", quote_line,
                ": unterminated quoted field, expected a closing '\"'"));
          }
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field.push_back('"');
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field.push_back(c);
          }
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return absl::InvalidArgumentError(absl::StrCat(
              name, ":", line, ": '", std::string(1, text[i]),
              "' after a closing quote, expected ',' or the end of the line"));
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') {
            return absl::InvalidArgumentError(absl::StrCat(
                name, ":", line,
                ": '\"' inside an unquoted field, expected the whole field in "
                "quotes with inner quotes doubled"));
          }
          field.push_back(text[i++]);
        }
      }
      record.fields.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      end_of_record = true;
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace affinity::storage
