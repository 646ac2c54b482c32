#include "trainer/data/text_fields.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/charconv.h"

namespace affinity {
namespace {

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Trims spaces, plus tabs unless they delimit fields.
inline absl::string_view Trim(absl::string_view s, bool trim_tabs) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || (trim_tabs && s[b] == '\t'))) ++b;
  while (e > b && (s[e - 1] == ' ' || (trim_tabs && s[e - 1] == '\t'))) --e;
  return s.substr(b, e - b);
}

constexpr float kPow10f[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                             1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

}  // namespace

absl::string_view DelimiterName(Delimiter delimiter) {
  switch (delimiter) {
    case Delimiter::kComma:
      return "comma";
    case Delimiter::kTab:
      return "tab";
    case Delimiter::kWhitespace:
      return "whitespace";
    case Delimiter::kDoubleColon:
      return "'::'";
  }
  return "unknown";
}

bool FieldSplitter::Split(absl::string_view line, int* count) {
  int n = 0;
  const char* p = line.data();
  const char* const end = p + line.size();
  switch (delimiter_) {
    case Delimiter::kComma:
      return SplitCsv(line, count);
    case Delimiter::kTab:
      while (true) {
        const char* tab =
            static_cast<const char*>(std::memchr(p, '\t', end - p));
        const char* stop = tab != nullptr ? tab : end;
        Store(n++, Trim(absl::string_view(p, stop - p), false));
        if (tab == nullptr) break;
        p = tab + 1;
      }
      break;
    case Delimiter::kWhitespace:
      while (true) {
        while (p < end && IsBlank(*p)) ++p;
        if (p == end) break;
        const char* start = p;
        while (p < end && !IsBlank(*p)) ++p;
        Store(n++, absl::string_view(start, p - start));
      }
      break;
    case Delimiter::kDoubleColon:
      while (true) {
        const char* stop = p;
        while (true) {
          stop = static_cast<const char*>(std::memchr(stop, ':', end - stop));
          if (stop == nullptr || (stop + 1 < end && stop[1] == ':')) break;
          ++stop;
        }
        if (stop == nullptr) stop = end;
        Store(n++, Trim(absl::string_view(p, stop - p), true));
        if (stop == end) break;
        p = stop + 2;
      }
      break;
  }
  *count = n;
  return true;
}

bool FieldSplitter::SplitCsv(absl::string_view line, int* count) {
  int n = 0;
  const char* p = line.data();
  const char* const end = p + line.size();
  while (true) {
    const char* q = p;
    while (q < end && IsBlank(*q)) ++q;
    if (q < end && *q == '"') {
      // Quoted field: runs to the next quote not followed by another one.
      const char* body = ++q;
      bool escaped = false;
      while (true) {
        q = static_cast<const char*>(std::memchr(q, '"', end - q));
        if (q == nullptr) {
          quote_error_ =
              "unterminated quoted field, expected a closing '\"' on the "
              "same line";
          return false;
        }
        if (q + 1 < end && q[1] == '"') {
          escaped = true;
          q += 2;
          continue;
        }
        break;
      }
      absl::string_view inner(body, q - body);
      if (escaped && n < kMaxStoredFields) {
        std::string& out = unescaped_[n];
        out.clear();
        for (size_t i = 0; i < inner.size(); ++i) {
          out.push_back(inner[i]);
          if (inner[i] == '"') ++i;  // "" -> "
        }
        inner = out;
      }
      Store(n++, inner);
      ++q;
      while (q < end && IsBlank(*q)) ++q;
      if (q == end) break;
      if (*q != ',') {
        quote_error_ =
            "text after a closing quote, expected a comma or the end of the "
            "line";
        return false;
      }
      p = q + 1;
      continue;
    }
    // Fields are short: a plain scan beats a memchr call per field.
    const char* stop = q;
    while (stop < end && *stop != ',') ++stop;
    Store(n++, Trim(absl::string_view(q, stop - q), true));
    if (stop == end) break;
    p = stop + 1;
  }
  *count = n;
  return true;
}

NumberStatus ParseWeight(absl::string_view text, float* value) {
  const char* p = text.data();
  const char* end = p + text.size();
  if (p < end && *p == '+' && p + 1 < end && p[1] != '-' && p[1] != '+') ++p;
  // Fast path: digits with an optional fraction, few enough significant
  // digits that float(mantissa) / 10^k is exactly the rounded value.
  {
    const char* q = p;
    uint32_t mantissa = 0;
    int digits = 0, frac = 0;
    while (q < end && static_cast<unsigned>(*q - '0') < 10 && digits < 8) {
      mantissa = mantissa * 10 + (*q++ - '0');
      ++digits;
    }
    if (q < end && *q == '.') {
      ++q;
      while (q < end && static_cast<unsigned>(*q - '0') < 10 && digits < 8) {
        mantissa = mantissa * 10 + (*q++ - '0');
        ++digits;
        ++frac;
      }
    }
    if (q == end && digits > 0 && mantissa < (1u << 24)) {
      *value = static_cast<float>(mantissa) / kPow10f[frac];
      return NumberStatus::kOk;
    }
  }
  // Decimal only: from_chars would also read hexadecimal ("0x10").
  for (const char* q = p; q < end; ++q) {
    if (*q == 'x' || *q == 'X') return NumberStatus::kNotANumber;
  }
  double parsed = 0;
  const absl::from_chars_result r = absl::from_chars(p, end, parsed);
  if (p == end || r.ptr != end ||
      (r.ec != std::errc() && r.ec != std::errc::result_out_of_range)) {
    return NumberStatus::kNotANumber;
  }
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars leaves the value unspecified on range errors; strtod
    // gives +-HUGE_VAL on overflow and 0 on underflow.
    parsed = std::strtod(std::string(p, end).c_str(), nullptr);
  }
  if (std::isnan(parsed)) return NumberStatus::kNotFinite;
  if (parsed < 0) return NumberStatus::kNegative;
  if (!(parsed <= std::numeric_limits<float>::max())) {
    return NumberStatus::kNotFinite;
  }
  *value = static_cast<float>(parsed) + 0.0f;  // -0 -> +0
  return NumberStatus::kOk;
}

NumberStatus ParseTimestamp(absl::string_view text, int64_t* value) {
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  if (p == end) return NumberStatus::kNotANumber;
  uint64_t v = 0;
  bool overflow = false;
  for (const char* q = p; q < end; ++q) {
    const unsigned d = static_cast<unsigned>(*q - '0');
    if (d >= 10) return NumberStatus::kNotANumber;
    if (v > (uint64_t{INT64_MAX} - d) / 10) overflow = true;
    if (!overflow) v = v * 10 + d;
  }
  if (negative && (v != 0 || overflow)) return NumberStatus::kNegative;
  if (overflow) return NumberStatus::kNotFinite;
  *value = static_cast<int64_t>(v);
  return NumberStatus::kOk;
}

bool LooksNumeric(absl::string_view text) {
  float ignored;
  return ParseWeight(text, &ignored) != NumberStatus::kNotANumber;
}

}  // namespace affinity
