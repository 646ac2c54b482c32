#include "trainer/import/spark_factors_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "trainer/data/line_reader.h"

namespace affinity {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kBufferBytes = size_t{4} << 20;
// Integers of smaller magnitude are exact in a double (JSON numbers are
// parsed as doubles).
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
constexpr absl::string_view kExpectedRow =
    "expected one {\"id\": ..., \"features\": [...]} object per line";

std::string KindName(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue: return "null";
    case Value::kNumberValue: return "a number";
    case Value::kStringValue: return "a string";
    case Value::kBoolValue: return "a boolean";
    case Value::kStructValue: return "an object";
    case Value::kListValue: return "an array";
    default: return "empty";
  }
}

// How Spark (Jackson) and other writers spell non-finite floats.
bool IsNonFiniteWord(absl::string_view word) {
  if (!absl::ConsumePrefix(&word, "-")) absl::ConsumePrefix(&word, "+");
  return absl::EqualsIgnoreCase(word, "nan") || absl::EqualsIgnoreCase(word, "inf") ||
         absl::EqualsIgnoreCase(word, "infinity");
}

// After the JSON parser rejected `line`: a non-finite number written
// outside quotes (NaN, Infinity, 1e999) gets its own message. Only looks at
// the tokens between string literals.
std::string DescribeParseFailure(absl::string_view line, absl::string_view parser_message) {
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '+' &&
        c != '.') {
      continue;
    }
    size_t end = i;
    while (end < line.size() &&
           (absl::ascii_isalnum(static_cast<unsigned char>(line[end])) ||
            line[end] == '-' || line[end] == '+' || line[end] == '.')) {
      ++end;
    }
    const std::string token(line.substr(i, end - i));
    i = end - 1;
    if (IsNonFiniteWord(token)) {
      return absl::StrCat("non-finite value ", token, ", expected finite numbers");
    }
    char* parsed_end = nullptr;
    const double value = std::strtod(token.c_str(), &parsed_end);
    if (parsed_end == token.c_str() + token.size() && std::isinf(value)) {
      return absl::StrCat("value ", token, " is out of range, expected finite numbers");
    }
  }
  const absl::string_view first_line =
      parser_message.substr(0, std::min(parser_message.find('\n'), parser_message.size()));
  const absl::string_view text = absl::StripAsciiWhitespace(line);
  if (!absl::StartsWith(text, "{")) {
    return absl::StrCat("not a JSON object (", first_line, "), ", kExpectedRow);
  }
  return absl::StrCat("malformed or truncated JSON (", first_line, "), ", kExpectedRow);
}

struct Location {
  uint32_t file = 0;
  int64_t line = 0;
};

class TableBuilder {
 public:
  // Adds one non-blank line of files[file]; the error message lacks the
  // FILE:LINE prefix.
  absl::Status AddLine(uint32_t file, int64_t line_number, absl::string_view line) {
    row_.Clear();
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &row_);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          DescribeParseFailure(line, absl::string_view(parsed.message().data(),
                                                       parsed.message().size())));
    }
    absl::StatusOr<std::string> id = ParseId();
    if (!id.ok()) return id.status();
    const size_t before = values_.size();
    if (absl::Status s = AppendFeatures(); !s.ok()) {
      values_.resize(before);
      return s;
    }
    const int64_t dims = static_cast<int64_t>(values_.size() - before);
    if (dims_ < 0) {
      dims_ = dims;
      first_row_ = Location{file, line_number};
    } else if (dims != dims_) {
      values_.resize(before);
      return absl::InvalidArgumentError(absl::StrCat(
          dims, " features, expected ", dims_, " like the first row (",
          Where(first_row_), ")"));
    }
    auto [it, inserted] = rows_.try_emplace(*id, static_cast<uint32_t>(ids_.size()));
    if (!inserted) {
      values_.resize(before);
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate id ", Quoted(*id), ", expected each id once (first at ",
                       Where(locations_[it->second]), ")"));
    }
    ids_.push_back(*std::move(id));
    locations_.push_back(Location{file, line_number});
    return absl::OkStatus();
  }

  std::string Where(const Location& at) const {
    return absl::StrCat((*files_)[at.file], ":", at.line);
  }

  void set_files(const std::vector<std::string>* files) { files_ = files; }
  size_t rows() const { return ids_.size(); }

  FactorTable Finish(std::vector<std::string> files) {
    FactorTable table;
    table.factors = Eigen::Map<const FactorMatrix>(
        values_.data(), static_cast<Eigen::Index>(ids_.size()), dims_);
    values_ = std::vector<float>();
    rows_.clear();
    table.ids = std::move(ids_);
    table.files = std::move(files);
    return table;
  }

 private:
  static std::string Quoted(absl::string_view id) { return absl::StrCat("'", id, "'"); }

  absl::StatusOr<std::string> ParseId() const {
    const auto it = row_.fields().find("id");
    if (it == row_.fields().end()) {
      return absl::InvalidArgumentError(
          "missing \"id\", expected an integer or non-empty string id");
    }
    const Value& id = it->second;
    if (id.kind_case() == Value::kNumberValue) {
      const double v = id.number_value();
      if (v != std::floor(v)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "id %.17g is not an integer, expected an integer or non-empty string id", v));
      }
      if (std::fabs(v) >= kMaxExactInteger) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "id %.17g is too large, expected an integer of magnitude below 2^53 "
            "or a string id", v));
      }
      return absl::StrCat(static_cast<int64_t>(v));
    }
    if (id.kind_case() == Value::kStringValue) {
      const std::string& s = id.string_value();
      if (s.empty()) {
        return absl::InvalidArgumentError("empty string id, expected a non-empty id");
      }
      if (s.size() > kMaxSparkIdBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "id of ", s.size(), " bytes, expected at most ", kMaxSparkIdBytes));
      }
      return s;  // the JSON parser accepts only valid UTF-8
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "id is ", KindName(id), ", expected an integer or non-empty string id"));
  }

  absl::Status AppendFeatures() {
    const auto it = row_.fields().find("features");
    if (it == row_.fields().end()) {
      return absl::InvalidArgumentError(
          "missing \"features\", expected an array of numbers");
    }
    if (it->second.kind_case() != Value::kListValue) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"features\" is ", KindName(it->second), ", expected an array of numbers"));
    }
    const auto& list = it->second.list_value().values();
    if (list.empty()) {
      return absl::InvalidArgumentError(
          "\"features\" is empty, expected at least one number");
    }
    for (int i = 0; i < list.size(); ++i) {
      const Value& v = list.Get(i);
      if (v.kind_case() == Value::kNumberValue) {
        const float f = static_cast<float>(v.number_value());
        if (!std::isfinite(f)) {
          return absl::InvalidArgumentError(
              absl::StrCat("features[", i, "] = ", v.number_value(),
                           " is not finite as float32, expected finite numbers"));
        }
        values_.push_back(f);
        continue;
      }
      if (v.kind_case() == Value::kStringValue && IsNonFiniteWord(v.string_value())) {
        return absl::InvalidArgumentError(
            absl::StrCat("features[", i, "] is the non-finite value \"",
                         v.string_value(), "\", expected finite numbers"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("features[", i, "] is ", KindName(v), ", expected a number"));
    }
    return absl::OkStatus();
  }

  const std::vector<std::string>* files_ = nullptr;
  Struct row_;
  std::vector<std::string> ids_;
  std::vector<Location> locations_;
  absl::flat_hash_map<std::string, uint32_t> rows_;
  std::vector<float> values_;
  int64_t dims_ = -1;
  Location first_row_;
};

bool IsCompressedName(absl::string_view name) {
  for (absl::string_view ext : {".gz", ".bz2", ".snappy", ".lz4", ".deflate", ".zst"}) {
    if (absl::EndsWith(name, ext)) return true;
  }
  return false;
}

// The files to read: `path` itself, or the part-* files of a directory.
absl::StatusOr<std::vector<std::string>> ListInputFiles(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat(
        path, ": no such file or directory, expected a Spark factors directory or file"));
  }
  if (!fs::is_directory(status)) return std::vector<std::string>{path};
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, "part-") || absl::EndsWith(name, ".crc")) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (IsCompressedName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          it->path().string(), ": compressed part file, expected plain JSON lines "
          "(write with .option(\"compression\", \"none\"))"));
    }
    files.push_back(it->path().string());
  }
  if (ec) {
    return absl::ErrnoToStatus(ec.value(), absl::StrCat(path, ": cannot list directory"));
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no part-* files, expected the directory written by Spark's "
        "DataFrame.write.json"));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

absl::StatusOr<FactorTable> ReadSparkFactors(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> files = ListInputFiles(path);
  if (!files.ok()) return files.status();
  TableBuilder builder;
  builder.set_files(&*files);
  for (uint32_t f = 0; f < files->size(); ++f) {
    const std::string& file = (*files)[f];
    absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(file, kBufferBytes);
    if (!reader.ok()) return reader.status();
    absl::string_view line;
    while ((*reader)->Next(&line)) {
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      absl::Status s = builder.AddLine(f, (*reader)->line_number(), line);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ":", (*reader)->line_number(), ": ", s.message()));
      }
    }
    if (!(*reader)->status().ok()) return (*reader)->status();
  }
  if (builder.rows() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no rows in ", absl::StrJoin(*files, ", "), ", ",
        "expected at least one {\"id\": ..., \"features\": [...]} object"));
  }
  return builder.Finish(*std::move(files));
}

}  // namespace affinity
