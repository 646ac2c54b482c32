#include "tests/server/exposition.h"

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace affinity::server::testing {
namespace {

bool IsNameChar(char c, bool first) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && absl::ascii_isdigit(static_cast<unsigned char>(c)));
}

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

// Sample values: floats, and the spellings Prometheus adds.
bool ParseValue(absl::string_view text, double* value) {
  if (text == "+Inf" || text == "Inf") {
    *value = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *value = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(text, value);
}

absl::StatusOr<Sample> ParseSample(absl::string_view line, int number) {
  Sample sample;
  size_t i = 0;
  while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
  if (i == 0) return LineError(number, "expected a metric name");
  sample.name = std::string(line.substr(0, i));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      if (i >= line.size()) return LineError(number, "'{' without '}'");
      if (line[i] == '}') {
        ++i;
        break;
      }
      const size_t start = i;
      while (i < line.size() && IsNameChar(line[i], i == start)) ++i;
      if (i == start) return LineError(number, "expected a label name");
      const std::string label(line.substr(start, i - start));
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        return LineError(number, absl::StrCat("label ", label, ": expected =\"value\""));
      }
      i += 2;
      std::string value;
      while (true) {
        if (i >= line.size()) return LineError(number, "unterminated label value");
        const char c = line[i++];
        if (c == '"') break;
        if (c == '\\' && i < line.size()) {
          const char e = line[i++];
          value.push_back(e == 'n' ? '\n' : e);
        } else {
          value.push_back(c);
        }
      }
      if (!sample.labels.emplace(label, std::move(value)).second) {
        return LineError(number, absl::StrCat("label ", label, " given twice"));
      }
      if (i < line.size() && line[i] == ',') ++i;
    }
  }
  if (i >= line.size() || line[i] != ' ') return LineError(number, "expected ' ' and a value");
  std::vector<absl::string_view> rest = absl::StrSplit(line.substr(i + 1), ' ', absl::SkipEmpty());
  if (rest.empty() || rest.size() > 2 || !ParseValue(rest[0], &sample.value)) {
    return LineError(number, "expected a value and an optional timestamp");
  }
  return sample;
}

}  // namespace

std::vector<std::string> Exposition::SampleNames(const std::string& family) const {
  auto it = family_types.find(family);
  if (it != family_types.end() && it->second == "histogram") {
    return {family + "_bucket", family + "_sum", family + "_count"};
  }
  return {family};
}

absl::StatusOr<Exposition> ParseExposition(absl::string_view text) {
  Exposition out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "#")) {
      std::vector<absl::string_view> parts =
          absl::StrSplit(line, absl::MaxSplits(' ', 3), absl::SkipEmpty());
      if (!parts.empty() && parts[0] == "TYPE") {
        if (parts.size() != 3) return LineError(number, "expected # TYPE name type");
        out.family_types[std::string(parts[1])] = std::string(parts[2]);
      }
      continue;
    }
    absl::StatusOr<Sample> sample = ParseSample(line, number);
    if (!sample.ok()) return sample.status();
    out.samples.push_back(*std::move(sample));
  }
  return out;
}

}  // namespace affinity::server::testing
