// Splits RFC 4180 CSV text into records: fields separated by commas,
// records by LF or CRLF; a field in double quotes may hold commas, line
// breaks and doubled quotes (""). A leading UTF-8 byte order mark and blank
// lines are skipped. Errors are InvalidArgument "NAME:LINE: what, expected
// what".
#ifndef AFFINITY_STORAGE_CSV_READER_H_
#define AFFINITY_STORAGE_CSV_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::storage {

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// `name` is the file name used in error messages.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text,
                                                absl::string_view name);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_CSV_READER_H_
