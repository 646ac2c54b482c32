// Splitting one line of a delimited text file into fields, and parsing the
// numeric fields of interaction rows, without allocating per line.
//
// Contract:
//  - Fields are string_views into the line (or into the splitter's own
//    buffers for quoted CSV fields containing escaped quotes); they stay
//    valid until the next Split call or until the line's storage changes.
//  - Spaces around fields (and tabs, except where tab is the delimiter) are
//    not part of the field.
//  - CSV follows RFC 4180 within one line: a field may be enclosed in double
//    quotes, inside which commas are literal and "" stands for one quote.
//    Quoted fields cannot span lines.
//  - Whitespace-delimited lines split on runs of spaces and tabs.
#ifndef AFFINITY_TRAINER_DATA_TEXT_FIELDS_H_
#define AFFINITY_TRAINER_DATA_TEXT_FIELDS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace affinity {

enum class Delimiter { kComma, kTab, kWhitespace, kDoubleColon };

// "comma", "tab", "whitespace" or "'::'".
absl::string_view DelimiterName(Delimiter delimiter);

class FieldSplitter {
 public:
  static constexpr int kMaxStoredFields = 4;

  explicit FieldSplitter(Delimiter delimiter) : delimiter_(delimiter) {}

  // Splits `line` (without its line terminator). On success sets *count to
  // the number of fields in the line (all of them, even past
  // kMaxStoredFields; only the first kMaxStoredFields are kept). Returns
  // false if CSV quoting is malformed; quote_error() then says what was
  // wrong and what was expected.
  bool Split(absl::string_view line, int* count);

  absl::string_view field(int i) const { return fields_[i]; }
  absl::string_view quote_error() const { return quote_error_; }

 private:
  bool SplitCsv(absl::string_view line, int* count);
  void Store(int i, absl::string_view field) {
    if (i < kMaxStoredFields) fields_[i] = field;
  }

  Delimiter delimiter_;
  std::array<absl::string_view, kMaxStoredFields> fields_;
  std::array<std::string, kMaxStoredFields> unescaped_;
  absl::string_view quote_error_;
};

enum class NumberStatus { kOk, kNotANumber, kNegative, kNotFinite };

// A finite, non-negative decimal number (integer, fraction or exponent form,
// optional leading '+'; no hexadecimal). "-0" reads as 0.
NumberStatus ParseWeight(absl::string_view text, float* value);

// A non-negative integer that fits in int64. kNotFinite means too large.
NumberStatus ParseTimestamp(absl::string_view text, int64_t* value);

// True if `text` reads as a number of any sign, NaN and infinity included.
bool LooksNumeric(absl::string_view text);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_TEXT_FIELDS_H_
