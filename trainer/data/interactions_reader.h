// Streams a user-item interaction file into interned ids and a user-major
// CsrMatrix, without holding the file text in memory.
//
// File layout: one interaction per line, fields in this order:
//   user, item [, weight [, timestamp]]
// The number of fields is fixed per file (by its header, else by its first
// data row); every row must have exactly that many.
//  - Ids are arbitrary non-empty strings of at most max_id_length bytes,
//    valid UTF-8 (see storage/utf8.h) without NUL bytes: every id reaches
//    clients as a proto3 string. Spaces (and tabs, unless tab is the
//    delimiter) around a field are not part of it. CSV fields may be
//    double-quoted (RFC 4180, one line).
//  - weight: finite, >= 0, decimal (integer, fraction or exponent form).
//    Without a weight column every row weighs 1.
//  - timestamp: integer >= 0 (e.g. Unix seconds).
//  - Blank lines are ignored. Line ends may be "\n" or "\r\n". A UTF-8 byte
//    order mark at the start of the file is skipped.
//
// Header: with HeaderMode::kAuto the first non-blank line is a header when
// its first two fields are known user and item column names (user, userId,
// user_id, customer_id, ... and item, itemId, movieId, product_id, ...; case,
// '_', '-' and spaces ignored), or when its weight or timestamp field is not
// a number. Otherwise it is data.
//
// Formats: kCsv (comma), kTsv (tab), kWhitespace (runs of spaces/tabs), and
// kMovieLens: user,item,rating,timestamp rows with the delimiter found from
// the content (u.data: tab, no header; ratings.csv: comma with header
// "userId,movieId,rating,timestamp"; ratings.dat: "::"). kAuto picks the
// delimiter from the first non-blank line, preferring the one named by the
// extension (.csv comma, .tsv/.tab tab, .dat '::'): tab, then comma, then
// '::', else whitespace.
//
// Ids become dense indices in first-seen order: user_ids[u] is the id of CSR
// row u, item_ids[i] the id of column i. Only rows that are used intern ids.
//
// Duplicates: rows with the same (user, item) are merged into one entry:
// their raw weights are summed, then the weight transform is applied to the
// sum; the merged timestamp is the latest one.
//
// Errors (absl::InvalidArgumentError unless noted), all naming the file:
//  - missing file: NotFound; unreadable file: the errno's status code.
//  - empty file, or a file without a single usable row.
//  - a malformed row, as "FILE:LINE: <what was wrong>, expected <what>":
//    wrong field count, empty or overlong id, id that is not valid UTF-8
//    ("... expected valid UTF-8 ...") or holds a NUL byte, weight that is not a number,
//    negative, NaN or infinite, timestamp that is not a non-negative
//    integer, bad CSV quoting. OnError::kFail stops at the first one;
//    OnError::kSkip drops such rows, counts them in stats.rows_skipped and
//    per reason in stats.skipped_by_reason, and keeps the first
//    max_errors_shown messages in stats.error_samples.
//  - a line longer than the read buffer (always fatal).
#ifndef AFFINITY_TRAINER_DATA_INTERACTIONS_READER_H_
#define AFFINITY_TRAINER_DATA_INTERACTIONS_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trainer/data/csr.h"

namespace affinity {

enum class InteractionFormat { kAuto, kCsv, kTsv, kWhitespace, kMovieLens };
enum class HeaderMode { kAuto, kPresent, kAbsent };
enum class OnError { kFail, kSkip };

// Applied to each merged (summed) raw weight.
enum class WeightTransform {
  kRaw,    // w
  kLog1p,  // log(1 + w)
  kBinary  // 1 if w > 0, else 0
};

// Parses "csv", "tsv", "whitespace", "movielens", "auto".
absl::StatusOr<InteractionFormat> ParseInteractionFormat(absl::string_view);
// Parses "raw", "log1p", "binary".
absl::StatusOr<WeightTransform> ParseWeightTransform(absl::string_view);
// Parses "fail", "skip".
absl::StatusOr<OnError> ParseOnError(absl::string_view);

struct InteractionReaderOptions {
  InteractionFormat format = InteractionFormat::kAuto;
  HeaderMode header = HeaderMode::kAuto;
  WeightTransform weight_transform = WeightTransform::kRaw;
  OnError on_error = OnError::kFail;
  size_t max_id_length = 256;     // bytes
  int max_errors_shown = 5;       // messages kept in stats.error_samples
  int rows_shown = 5;             // first used rows kept in stats.first_rows
  size_t buffer_bytes = 8 << 20;  // read chunk; also the longest line
};

// A data row as the reader understood it, before duplicates are merged and
// before the weight transform.
struct ParsedRow {
  int64_t line = 0;   // 1-based line number in the file
  std::string user;
  std::string item;
  float weight = 1;   // 1 without a weight column
  int64_t timestamp = 0;  // 0 without a timestamp column
};

struct InteractionStats {
  int64_t bytes_read = 0;
  uint32_t crc32 = 0;             // zlib CRC-32 of the file bytes
  int64_t lines_read = 0;         // every line, header and blank ones included
  int64_t rows_read = 0;          // data rows: used + skipped
  int64_t rows_skipped = 0;       // malformed rows dropped under OnError::kSkip
  int64_t duplicates_merged = 0;  // used rows folded into an earlier entry
  bool has_header = false;
  int columns = 0;        // fields per row: 2, 3 or 4
  std::string delimiter;  // "comma", "tab", "whitespace" or "'::'"
  // rows_skipped by reason, one of: "bad quoting", "missing field", "too
  // many fields", "empty id", "id too long", "id with a NUL byte", "id not
  // valid UTF-8", "weight not a number", "negative weight", "weight not
  // finite" ("rating ..." for kMovieLens), "timestamp not an integer",
  // "negative timestamp", "timestamp too large". Reasons without rows are
  // absent; the counts add up to rows_skipped.
  std::map<std::string, int64_t> skipped_by_reason;
  std::vector<std::string> error_samples;  // first skipped-row messages
  std::vector<ParsedRow> first_rows;       // first options.rows_shown used rows
  double parse_seconds = 0;                // reading, parsing and interning
  double build_seconds = 0;                // CSR construction
};

struct Interactions {
  std::vector<std::string> user_ids;  // CSR row -> id
  std::vector<std::string> item_ids;  // CSR column -> id
  // users x items; values are the transformed summed weights.
  CsrMatrix matrix;
  // One per CSR entry, aligned with matrix.indices(); empty if the file has
  // no timestamp column.
  std::vector<int64_t> timestamps;
  InteractionStats stats;
};

absl::StatusOr<Interactions> ReadInteractions(
    const std::string& path, const InteractionReaderOptions& options = {});

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_INTERACTIONS_READER_H_
