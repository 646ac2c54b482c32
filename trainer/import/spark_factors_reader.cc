#include "trainer/import/spark_factors_reader.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <thread>
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
#include "trainer/als/parallel_for.h"
#include "trainer/data/line_reader.h"

namespace affinity {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Struct;
using google::protobuf::Value;

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

// Extracts the id and features of one parsed row; messages lack FILE:LINE.
class RowParser {
 public:
  // Parses `line`; on success id() and features() hold the row.
  absl::Status Parse(absl::string_view line) {
    row_.Clear();
    features_.clear();
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &row_);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          DescribeParseFailure(line, absl::string_view(parsed.message().data(),
                                                       parsed.message().size())));
    }
    if (absl::Status s = ParseId(); !s.ok()) return s;
    return ParseFeatures();
  }

  std::string& id() { return id_; }
  const std::vector<float>& features() const { return features_; }

 private:
  absl::Status ParseId() {
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
      id_ = absl::StrCat(static_cast<int64_t>(v));
      return absl::OkStatus();
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
      id_ = s;  // the JSON parser accepts only valid UTF-8
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "id is ", KindName(id), ", expected an integer or non-empty string id"));
  }

  absl::Status ParseFeatures() {
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
        features_.push_back(f);
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

  Struct row_;
  std::string id_;
  std::vector<float> features_;
};

// The rows of one file up to its first malformed line, checked on their
// own (the checks across rows and files come when files are merged).
struct ParsedFile {
  std::vector<std::string> ids;
  std::vector<int64_t> lines;
  std::vector<uint32_t> dims;  // per row
  std::vector<float> values;   // the rows' features, concatenated
  absl::Status error;          // "FILE:LINE: ...", after the rows above
};

ParsedFile ParseFile(const std::string& file, size_t buffer_bytes) {
  ParsedFile out;
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(file, buffer_bytes);
  if (!reader.ok()) {
    out.error = reader.status();
    return out;
  }
  RowParser parser;
  absl::string_view line;
  while ((*reader)->Next(&line)) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (absl::Status s = parser.Parse(line); !s.ok()) {
      out.error = absl::InvalidArgumentError(
          absl::StrCat(file, ":", (*reader)->line_number(), ": ", s.message()));
      return out;
    }
    out.ids.push_back(std::move(parser.id()));
    out.lines.push_back((*reader)->line_number());
    out.dims.push_back(static_cast<uint32_t>(parser.features().size()));
    out.values.insert(out.values.end(), parser.features().begin(), parser.features().end());
  }
  out.error = (*reader)->status();
  return out;
}

// Checks across rows (equal dims, unique ids) in file order, then stacks
// the rows into one table; the first error in file and line order wins.
class TableMerger {
 public:
  explicit TableMerger(const std::vector<std::string>& files) : files_(files) {}

  // Checks the rows of files[file] and takes their ids.
  absl::Status Add(uint32_t file, ParsedFile& parsed) {
    for (size_t r = 0; r < parsed.ids.size(); ++r) {
      const Location at{file, parsed.lines[r]};
      const int64_t dims = parsed.dims[r];
      if (dims_ < 0) {
        dims_ = dims;
        first_row_ = at;
      } else if (dims != dims_) {
        return Error(at, absl::StrCat(dims, " features, expected ", dims_,
                                      " like the first row (", Where(first_row_), ")"));
      }
      auto [it, inserted] =
          rows_.try_emplace(parsed.ids[r], static_cast<uint32_t>(locations_.size()));
      if (!inserted) {
        return Error(at, absl::StrCat("duplicate id '", parsed.ids[r],
                                      "', expected each id once (first at ",
                                      Where(locations_[it->second]), ")"));
      }
      locations_.push_back(at);
      ids_.push_back(std::move(parsed.ids[r]));
    }
    parsed.ids = std::vector<std::string>();
    parsed.lines = std::vector<int64_t>();
    return parsed.error;
  }

  size_t rows() const { return ids_.size(); }

  // Stacks the values of every added file, releasing them file by file.
  FactorTable Finish(std::vector<ParsedFile>& parsed) {
    FactorTable table;
    table.factors.resize(static_cast<Eigen::Index>(ids_.size()), dims_);
    float* out = table.factors.data();
    for (ParsedFile& file : parsed) {
      out = std::copy(file.values.begin(), file.values.end(), out);
      file.values = std::vector<float>();
    }
    rows_.clear();
    table.ids = std::move(ids_);
    table.files = files_;
    return table;
  }

 private:
  struct Location {
    uint32_t file = 0;
    int64_t line = 0;
  };

  std::string Where(const Location& at) const {
    return absl::StrCat(files_[at.file], ":", at.line);
  }
  absl::Status Error(const Location& at, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Where(at), ": ", what));
  }

  const std::vector<std::string>& files_;
  std::vector<std::string> ids_;
  std::vector<Location> locations_;
  absl::flat_hash_map<std::string, uint32_t> rows_;
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

absl::StatusOr<FactorTable> ReadSparkFactors(const std::string& path, size_t buffer_bytes) {
  absl::StatusOr<std::vector<std::string>> files = ListInputFiles(path);
  if (!files.ok()) return files.status();
  // Files are parsed in parallel; a file after one with an error is not
  // needed (its rows come later in the order).
  std::vector<ParsedFile> parsed(files->size());
  std::atomic<size_t> first_error{files->size()};
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ParallelFor(static_cast<int64_t>(files->size()), threads, 1, Schedule::kDynamic,
              [&](int64_t begin, int64_t end, int) {
                for (int64_t f = begin; f < end; ++f) {
                  if (static_cast<size_t>(f) > first_error.load()) continue;
                  parsed[f] = ParseFile((*files)[f], buffer_bytes);
                  if (parsed[f].error.ok()) continue;
                  size_t seen = first_error.load();
                  while (static_cast<size_t>(f) < seen &&
                         !first_error.compare_exchange_weak(seen, f)) {
                  }
                }
              });
  TableMerger merger(*files);
  for (uint32_t f = 0; f < files->size(); ++f) {
    if (absl::Status s = merger.Add(f, parsed[f]); !s.ok()) return s;
  }
  if (merger.rows() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no rows in ", absl::StrJoin(*files, ", "), ", ",
        "expected at least one {\"id\": ..., \"features\": [...]} object"));
  }
  return merger.Finish(parsed);
}

}  // namespace affinity
