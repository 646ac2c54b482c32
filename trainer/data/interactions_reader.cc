#include "trainer/data/interactions_reader.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "storage/utf8.h"
#include "trainer/data/coo_builder.h"
#include "trainer/data/id_interner.h"
#include "trainer/data/line_reader.h"
#include "trainer/data/text_fields.h"

namespace affinity {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Non-empty, at most max_length bytes, and every byte in 0x01..0x7F: the
// common case, which needs no further check.
inline bool IsShortAsciiId(absl::string_view id, size_t max_length) {
  if (id.empty() || id.size() > max_length) return false;
  const char* p = id.data();
  const char* const end = p + id.size();
  // 8 bytes at a time: (w - 0x01..01) | w has a byte's high bit set when
  // that byte is 0 or >= 0x80 (false alarms only after such a byte).
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof(w));
    if (((w - kOnes) | w) & kHighs) return false;
  }
  for (; p < end; ++p) {
    if (static_cast<unsigned char>(*p - 1) >= 0x7F) return false;
  }
  return true;
}

bool IsBlankLine(absl::string_view line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

// Quotes a field for an error message, shortened and with control bytes
// escaped.
std::string Quoted(absl::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) {
    return absl::StrCat("'", absl::CHexEscape(text), "'");
  }
  return absl::StrCat("'", absl::CHexEscape(text.substr(0, kMax)), "...'");
}

// Lower-cased with '_', '-', ' ' and quotes removed.
std::string NormalizedColumnName(absl::string_view field) {
  std::string name;
  if (field.size() > 32) return name;
  for (const char c : field) {
    if (c == '_' || c == '-' || c == ' ' || c == '"') continue;
    name.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

bool IsUserColumnName(absl::string_view field) {
  static const auto* const kNames = new absl::flat_hash_set<std::string>{
      "user",     "userid",     "users",   "uid",       "username",
      "customer", "customerid", "visitor", "visitorid", "member",
      "memberid", "reader",     "readerid"};
  return kNames->contains(NormalizedColumnName(field));
}

bool IsItemColumnName(absl::string_view field) {
  static const auto* const kNames = new absl::flat_hash_set<std::string>{
      "item",    "itemid",    "items",     "iid",      "movie",      "movieid",
      "product", "productid", "track",     "trackid",  "artist",     "artistid",
      "book",    "bookid",    "isbn",      "song",     "songid",     "video",
      "videoid", "article",   "articleid", "location", "locationid", "venue",
      "venueid", "poi",       "poiid"};
  return kNames->contains(NormalizedColumnName(field));
}

// A header names both id columns (e.g. "userId,movieId"), or has a weight
// or timestamp field that is not a number.
bool LooksLikeHeader(const FieldSplitter& fields, int count) {
  if (count < 2) return false;
  if (IsUserColumnName(fields.field(0)) && IsItemColumnName(fields.field(1))) {
    return true;
  }
  const int stored = std::min(count, FieldSplitter::kMaxStoredFields);
  for (int i = 2; i < stored; ++i) {
    if (!LooksNumeric(fields.field(i))) return true;
  }
  return false;
}

Delimiter ChooseDelimiter(absl::string_view path, absl::string_view first_line,
                          InteractionFormat format) {
  switch (format) {
    case InteractionFormat::kCsv:
      return Delimiter::kComma;
    case InteractionFormat::kTsv:
      return Delimiter::kTab;
    case InteractionFormat::kWhitespace:
      return Delimiter::kWhitespace;
    case InteractionFormat::kAuto:
    case InteractionFormat::kMovieLens:
      break;
  }
  const std::string lower = absl::AsciiStrToLower(path);
  std::optional<Delimiter> preferred;
  if (absl::EndsWith(lower, ".csv")) preferred = Delimiter::kComma;
  if (absl::EndsWith(lower, ".tsv") || absl::EndsWith(lower, ".tab")) {
    preferred = Delimiter::kTab;
  }
  if (absl::EndsWith(lower, ".dat")) preferred = Delimiter::kDoubleColon;
  auto present = [&](Delimiter d) {
    switch (d) {
      case Delimiter::kComma:
        return absl::StrContains(first_line, ',');
      case Delimiter::kTab:
        return absl::StrContains(first_line, '\t');
      case Delimiter::kDoubleColon:
        return absl::StrContains(first_line, "::");
      case Delimiter::kWhitespace:
        return true;
    }
    return false;
  };
  if (preferred.has_value() && present(*preferred)) return *preferred;
  for (const Delimiter d :
       {Delimiter::kTab, Delimiter::kComma, Delimiter::kDoubleColon}) {
    if (present(d)) return d;
  }
  return Delimiter::kWhitespace;
}

std::string ColumnsDescription(int columns, bool movielens) {
  switch (columns) {
    case 2:
      return "2 fields (user,item)";
    case 3:
      return "3 fields (user,item,weight)";
    case 4:
      return movielens ? "4 fields (user,item,rating,timestamp)"
                       : "4 fields (user,item,weight,timestamp)";
  }
  return "2 to 4 fields (user,item[,weight[,timestamp]])";
}

float ApplyTransform(WeightTransform transform, float w) {
  switch (transform) {
    case WeightTransform::kRaw:
      return w;
    case WeightTransform::kLog1p:
      return std::log1p(w);
    case WeightTransform::kBinary:
      return w > 0 ? 1.0f : 0.0f;
  }
  return w;
}

// One pass over the lines of a file: header and column detection, row
// validation, id interning, and entry accumulation.
class Parser {
 public:
  Parser(const InteractionReaderOptions& options, LineReader& lines)
      : options_(options),
        lines_(lines),
        movielens_(options.format == InteractionFormat::kMovieLens) {
    if (movielens_) SetColumns(4);
  }

  // Consumes every line. A non-OK status ends the read.
  absl::Status Run();

  InteractionStats& stats() { return stats_; }
  IdInterner& users() { return users_; }
  IdInterner& items() { return items_; }
  CooBuilder* builder() { return builder_.get(); }

 private:
  void SetColumns(int columns) {
    columns_ = columns;
    stats_.columns = columns;
    builder_ = std::make_unique<CooBuilder>(columns == 4);
  }
  absl::Status FirstLine(absl::string_view line, bool* is_header);
  // Validates one data row and records it, or rejects it (see Reject).
  absl::Status Row(absl::string_view line);
  // Under OnError::kFail the error for `message` at the current line;
  // under kSkip counts the row under `reason` (a short phrase, see
  // InteractionStats::skipped_by_reason), keeps the message if few are kept
  // so far, and returns OK.
  absl::Status Reject(absl::string_view reason, std::string message);
  std::string Where() const {
    return absl::StrCat(lines_.path(), ":", lines_.line_number(), ": ");
  }
  // What is wrong with an id (reason and message), or an empty reason.
  struct IdProblem {
    std::string reason;
    std::string message;
  };
  IdProblem CheckId(absl::string_view what, absl::string_view id) const;
  // Sizes the builder for the whole file from the bytes per row so far.
  void ReserveForFile() {
    const int64_t done = lines_.position();
    const int64_t size = lines_.file_size();
    if (done <= 0 || size <= done) return;
    const double rows_per_byte =
        static_cast<double>(stats_.rows_read) / static_cast<double>(done);
    builder_->Reserve(static_cast<int64_t>(1.05 * rows_per_byte * size) + 1024);
  }
  static constexpr int64_t kRowsBeforeEstimate = 10000;

  const InteractionReaderOptions& options_;
  LineReader& lines_;
  const bool movielens_;
  std::optional<FieldSplitter> splitter_;
  int columns_ = 0;
  IdInterner users_;
  IdInterner items_;
  std::string last_user_;
  uint32_t last_user_index_ = IdInterner::kFull;
  std::unique_ptr<CooBuilder> builder_;
  InteractionStats stats_;
};

absl::Status Parser::Run() {
  absl::string_view line;
  bool first = true;
  while (lines_.Next(&line)) {
    // A byte order mark (Windows editors) is not part of the first field.
    if (lines_.line_number() == 1) absl::ConsumePrefix(&line, "\xEF\xBB\xBF");
    if (line.empty() ||
        ((line[0] == ' ' || line[0] == '\t') && IsBlankLine(line))) {
      continue;
    }
    if (first) {
      first = false;
      bool is_header = false;
      absl::Status status = FirstLine(line, &is_header);
      if (!status.ok()) return status;
      if (is_header) continue;
    }
    absl::Status status = Row(line);
    if (!status.ok()) return status;
  }
  stats_.lines_read = lines_.line_number();
  stats_.bytes_read = lines_.bytes_read();
  stats_.crc32 = lines_.crc32();
  return lines_.status();
}

absl::Status Parser::FirstLine(absl::string_view line, bool* is_header) {
  const Delimiter delimiter =
      ChooseDelimiter(lines_.path(), line, options_.format);
  splitter_.emplace(delimiter);
  stats_.delimiter = std::string(DelimiterName(delimiter));
  if (options_.header == HeaderMode::kAbsent) return absl::OkStatus();
  int count = 0;
  const bool split = splitter_->Split(line, &count);
  *is_header = options_.header == HeaderMode::kPresent ||
               (split && LooksLikeHeader(*splitter_, count));
  if (!*is_header) return absl::OkStatus();
  stats_.has_header = true;
  if (!split) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(), "header: ", splitter_->quote_error()));
  }
  if (columns_ == 0 && count >= 2 && count <= 4) {
    SetColumns(count);
  } else if (count != columns_) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(), "header has ", count, count == 1 ? " field" : " fields",
        ", expected ", ColumnsDescription(columns_, movielens_)));
  }
  return absl::OkStatus();
}

Parser::IdProblem Parser::CheckId(absl::string_view what,
                                  absl::string_view id) const {
  if (id.empty()) {
    return {"empty id", absl::StrCat("empty ", what, " id, expected a non-empty string")};
  }
  if (id.size() > options_.max_id_length) {
    return {"id too long",
            absl::StrCat(what, " id ", Quoted(id), " is ", id.size(),
                         " bytes long, expected at most ", options_.max_id_length,
                         " bytes")};
  }
  if (const size_t nul = storage::FindNul(id); nul != absl::string_view::npos) {
    return {"id with a NUL byte",
            absl::StrCat(what, " id ", Quoted(id), " contains a NUL byte (offset ", nul,
                         "), expected an id without NUL bytes")};
  }
  if (!storage::IsValidUtf8(id)) {
    return {"id not valid UTF-8",
            absl::StrCat(what, " id ", Quoted(id), " is not valid UTF-8 (",
                         storage::InvalidUtf8Position(id), "), ",
                         storage::kUtf8Expectation)};
  }
  return {};
}

absl::Status Parser::Reject(absl::string_view reason, std::string message) {
  std::string located = absl::StrCat(Where(), message);
  if (options_.on_error == OnError::kFail) {
    return absl::InvalidArgumentError(located);
  }
  ++stats_.rows_skipped;
  ++stats_.skipped_by_reason[std::string(reason)];
  if (static_cast<int>(stats_.error_samples.size()) <
      options_.max_errors_shown) {
    stats_.error_samples.push_back(std::move(located));
  }
  return absl::OkStatus();
}

absl::Status Parser::Row(absl::string_view line) {
  ++stats_.rows_read;
  int count = 0;
  if (!splitter_->Split(line, &count)) {
    return Reject("bad quoting", std::string(splitter_->quote_error()));
  }
  if (columns_ == 0 && count >= 2 && count <= 4) SetColumns(count);
  if (count != columns_) {
    const absl::string_view reason =
        count < (columns_ == 0 ? 2 : columns_) ? "missing field" : "too many fields";
    return Reject(
        reason,
        absl::StrCat(reason, ": row has ", count, count == 1 ? " field" : " fields",
                     ", expected ", ColumnsDescription(columns_, movielens_)));
  }
  const absl::string_view user = splitter_->field(0);
  const absl::string_view item = splitter_->field(1);
  const size_t max_id = options_.max_id_length;
  if (ABSL_PREDICT_FALSE(!IsShortAsciiId(user, max_id) ||
                         !IsShortAsciiId(item, max_id))) {
    IdProblem problem = CheckId("user", user);
    if (problem.reason.empty()) problem = CheckId("item", item);
    if (!problem.reason.empty()) {
      return Reject(problem.reason, std::move(problem.message));
    }
  }

  float weight = 1.0f;
  if (columns_ >= 3) {
    const absl::string_view text = splitter_->field(2);
    const absl::string_view name = movielens_ ? "rating" : "weight";
    switch (ParseWeight(text, &weight)) {
      case NumberStatus::kOk:
        break;
      case NumberStatus::kNotANumber:
        return Reject(absl::StrCat(name, " not a number"),
                      absl::StrCat(name, " ", Quoted(text),
                                   " is not a number, expected a finite "
                                   "number >= 0"));
      case NumberStatus::kNegative:
        return Reject(absl::StrCat("negative ", name),
                      absl::StrCat(name, " ", Quoted(text),
                                   " is negative, expected a finite "
                                   "number >= 0"));
      case NumberStatus::kNotFinite:
        return Reject(absl::StrCat(name, " not finite"),
                      absl::StrCat(name, " ", Quoted(text),
                                   " is not finite, expected a finite "
                                   "number >= 0"));
    }
  }
  int64_t timestamp = 0;
  if (columns_ == 4) {
    const absl::string_view text = splitter_->field(3);
    switch (ParseTimestamp(text, &timestamp)) {
      case NumberStatus::kOk:
        break;
      case NumberStatus::kNotANumber:
        return Reject("timestamp not an integer",
                      absl::StrCat("timestamp ", Quoted(text),
                                   " is not an integer, expected an integer "
                                   ">= 0 (seconds)"));
      case NumberStatus::kNegative:
        return Reject("negative timestamp",
                      absl::StrCat("timestamp ", Quoted(text),
                                   " is negative, expected an integer >= 0 "
                                   "(seconds)"));
      case NumberStatus::kNotFinite:
        return Reject("timestamp too large",
                      absl::StrCat("timestamp ", Quoted(text),
                                   " is too large, expected an integer >= 0 "
                                   "below 2^63"));
    }
  }

  // Files are often grouped by user: reuse the previous row's lookup.
  uint32_t u = last_user_index_;
  if (u == IdInterner::kFull || user != last_user_) {
    u = users_.Intern(user);
    if (u == IdInterner::kFull) {
      return absl::ResourceExhaustedError(
          absl::StrCat(Where(), "too many distinct user ids, expected at most ",
                       IdInterner::kMaxIds));
    }
    last_user_.assign(user.data(), user.size());
    last_user_index_ = u;
  }
  const uint32_t i = items_.Intern(item);
  if (i == IdInterner::kFull) {
    return absl::ResourceExhaustedError(
        absl::StrCat(Where(), "too many distinct item ids, expected at most ",
                     IdInterner::kMaxIds));
  }
  if (ABSL_PREDICT_FALSE(static_cast<int>(stats_.first_rows.size()) < options_.rows_shown)) {
    stats_.first_rows.push_back(ParsedRow{lines_.line_number(), std::string(user),
                                          std::string(item), weight, timestamp});
  }
  builder_->Add(u, i, weight, timestamp);
  if (ABSL_PREDICT_FALSE(stats_.rows_read == kRowsBeforeEstimate)) {
    ReserveForFile();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InteractionFormat> ParseInteractionFormat(
    absl::string_view name) {
  if (name == "auto") return InteractionFormat::kAuto;
  if (name == "csv") return InteractionFormat::kCsv;
  if (name == "tsv") return InteractionFormat::kTsv;
  if (name == "whitespace") return InteractionFormat::kWhitespace;
  if (name == "movielens") return InteractionFormat::kMovieLens;
  return absl::InvalidArgumentError(
      absl::StrCat("format ", Quoted(name),
                   " is unknown, expected auto, csv, tsv, whitespace or "
                   "movielens"));
}

absl::StatusOr<WeightTransform> ParseWeightTransform(absl::string_view name) {
  if (name == "raw") return WeightTransform::kRaw;
  if (name == "log1p") return WeightTransform::kLog1p;
  if (name == "binary") return WeightTransform::kBinary;
  return absl::InvalidArgumentError(
      absl::StrCat("weight transform ", Quoted(name),
                   " is unknown, expected raw, log1p or binary"));
}

absl::StatusOr<OnError> ParseOnError(absl::string_view name) {
  if (name == "fail") return OnError::kFail;
  if (name == "skip") return OnError::kSkip;
  return absl::InvalidArgumentError(absl::StrCat(
      "on_error ", Quoted(name), " is unknown, expected fail or skip"));
}

absl::StatusOr<Interactions> ReadInteractions(
    const std::string& path, const InteractionReaderOptions& options) {
  if (options.max_id_length == 0) {
    return absl::InvalidArgumentError(
        "max_id_length is 0, expected at least 1 byte");
  }
  if (options.max_errors_shown < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_errors_shown is ", options.max_errors_shown, ", expected >= 0"));
  }
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::unique_ptr<LineReader>> lines =
      LineReader::Open(path, options.buffer_bytes);
  if (!lines.ok()) return lines.status();
  Parser parser(options, **lines);
  absl::Status status = parser.Run();
  if (!status.ok()) return status;
  InteractionStats& stats = parser.stats();
  if (stats.bytes_read == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": file is empty, expected interaction rows"));
  }
  if (parser.builder() == nullptr || parser.builder()->size() == 0) {
    std::string why;
    if (stats.rows_skipped > 0) {
      why = absl::StrCat(" (all ", stats.rows_skipped,
                         " data rows were malformed; first: ",
                         absl::StrJoin(stats.error_samples, "; "), ")");
    } else if (stats.has_header) {
      why = " (only a header)";
    } else {
      why = " (only blank lines)";
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no usable rows", why,
                     ", expected at least one user,item row"));
  }
  stats.parse_seconds = SecondsSince(start);

  const Clock::time_point build_start = Clock::now();
  Interactions result;
  const int64_t rows = static_cast<int64_t>(parser.users().size());
  const int64_t cols = static_cast<int64_t>(parser.items().size());
  absl::StatusOr<CooBuilder::Result> built =
      parser.builder()->Build(rows, cols);
  if (!built.ok()) return built.status();
  result.matrix = std::move(built->matrix);
  result.timestamps = std::move(built->timestamps);
  stats.duplicates_merged = built->duplicates_merged;
  if (options.weight_transform != WeightTransform::kRaw) {
    for (float& w : result.matrix.mutable_values()) {
      w = ApplyTransform(options.weight_transform, w);
    }
  }
  result.user_ids = parser.users().TakeIds();
  result.item_ids = parser.items().TakeIds();
  stats.build_seconds = SecondsSince(build_start);
  result.stats = std::move(stats);
  return result;
}

}  // namespace affinity
