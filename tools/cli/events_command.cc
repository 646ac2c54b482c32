#include "tools/cli/events_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "affinity/v1/outcomes.pb.h"
#include "storage/event_reader.h"

namespace affinity::cli {
namespace {

using affinity::v1::Outcome;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool HasLineBreak(absl::string_view id) {
  return id.find_first_of("\r\n") != absl::string_view::npos;
}

// An id as a CSV field the trainer's reader gives back byte for byte.
void AppendCsvField(absl::string_view field, std::string* out) {
  const bool quote = field.find_first_of(",\"") != absl::string_view::npos ||
                     (!field.empty() && (IsBlank(field.front()) || IsBlank(field.back())));
  if (!quote) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

double WeightOf(const EventWeights& weights, affinity::v1::EventType type) {
  switch (type) {
    case affinity::v1::IMPRESSION:
      return weights.impression;
    case affinity::v1::CLICK:
      return weights.click;
    case affinity::v1::CONVERSION:
      return weights.conversion;
    default:
      return 0;
  }
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// A temporary file beside `path`, removed on destruction unless committed.
class TempFile {
 public:
  ~TempFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_ && !path_.empty()) unlink(path_.c_str());
  }

  absl::Status Create(const std::string& target) {
    std::string pattern = absl::StrCat(target, ".tmp-XXXXXX");
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const int fd = mkstemp(buffer.data());
    if (fd < 0) return ErrnoError("cannot create a temporary file for", target);
    path_ = buffer.data();
    // mkstemp creates 0600; the export is an ordinary file.
    fchmod(fd, 0644);
    file_ = fdopen(fd, "w");
    if (file_ == nullptr) {
      close(fd);
      return ErrnoError("cannot write", path_);
    }
    return absl::OkStatus();
  }

  absl::Status Write(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
      return ErrnoError("cannot write", path_);
    }
    return absl::OkStatus();
  }

  // Flushes, fsyncs, closes and renames over `target`.
  absl::Status Commit(const std::string& target) {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
      return ErrnoError("cannot write", path_);
    }
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) return ErrnoError("cannot write", path_);
    if (std::rename(path_.c_str(), target.c_str()) != 0) {
      return ErrnoError(absl::StrCat("cannot rename ", path_, " to"), target);
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace

absl::StatusOr<EventWeights> ParseEventWeights(absl::string_view text) {
  EventWeights weights{0, 0, 0};
  bool seen[3] = {false, false, false};
  const std::vector<absl::string_view> entries =
      absl::StrSplit(text, ',', absl::SkipWhitespace());
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        "--weights: empty, expected type:weight,... e.g. click:1,conversion:5,impression:0");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const absl::string_view entry = absl::StripAsciiWhitespace(entries[i]);
    const std::string where = absl::StrCat("--weights entry ", i + 1, " \"", entry, "\"");
    const size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": missing ':weight', expected type:weight"));
    }
    const std::string type = absl::AsciiStrToLower(entry.substr(0, colon));
    double weight = 0;
    if (!absl::SimpleAtod(entry.substr(colon + 1), &weight) || !std::isfinite(weight) ||
        weight < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": bad weight, expected a finite number >= 0"));
    }
    int index = -1;
    if (type == "impression") {
      index = 0;
      weights.impression = weight;
    } else if (type == "click") {
      index = 1;
      weights.click = weight;
    } else if (type == "conversion") {
      index = 2;
      weights.conversion = weight;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown event type, expected impression, click or conversion"));
    }
    if (seen[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", type, " given twice, expected each type at most once"));
    }
    seen[index] = true;
  }
  return weights;
}

absl::StatusOr<int64_t> ParseTimeFlag(absl::string_view text, absl::string_view flag) {
  text = absl::StripAsciiWhitespace(text);
  if (!text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(text, &seconds) ||
        seconds > std::numeric_limits<int64_t>::max() / 1000000) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": ", text, " is out of range, expected Unix seconds"));
    }
    return seconds * 1000000;
  }
  absl::Time time;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error) ||
      absl::ParseTime(absl::RFC3339_full, text, absl::UTCTimeZone(), &time, &error)) {
    if (time < absl::UnixEpoch()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": \"", text, "\" is before 1970, expected a later time"));
    }
    return absl::ToUnixMicros(time);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": \"", text,
                   "\", expected a date (2026-11-01, UTC), an RFC 3339 time "
                   "(2026-11-01T12:00:00Z) or Unix seconds"));
}

absl::StatusOr<ExportStats> ExportEvents(const ExportOptions& options) {
  absl::StatusOr<std::unique_ptr<storage::EventReader>> reader =
      storage::EventReader::Open(options.db);
  if (!reader.ok()) return reader.status();

  TempFile file;
  if (absl::Status s = file.Create(options.out); !s.ok()) return s;
  ExportStats stats;
  std::string chunk = "user,item,weight,timestamp\n";
  absl::Status status = (*reader)->ForEachEvent(
      options.since_unix_micros, options.until_unix_micros, [&](const Outcome& e) {
        ++stats.events;
        const double weight = WeightOf(options.weights, e.event());
        if (weight == 0) {
          ++stats.zero_weight;
          return absl::OkStatus();
        }
        if (e.user_id().empty()) {
          ++stats.without_user;
          return absl::OkStatus();
        }
        if (HasLineBreak(e.user_id()) || HasLineBreak(e.item_id())) {
          ++stats.line_breaks;
          return absl::OkStatus();
        }
        AppendCsvField(e.user_id(), &chunk);
        chunk.push_back(',');
        AppendCsvField(e.item_id(), &chunk);
        absl::StrAppend(&chunk, ",", weight, ",", e.at_unix_micros() / 1000000, "\n");
        ++stats.rows;
        if (chunk.size() >= (size_t{1} << 20)) {
          absl::Status s = file.Write(chunk);
          chunk.clear();
          return s;
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (absl::Status s = file.Write(chunk); !s.ok()) return s;
  if (absl::Status s = file.Commit(options.out); !s.ok()) return s;
  return stats;
}

std::string DescribeExport(const ExportStats& stats, absl::string_view out) {
  return absl::StrCat("exported ", stats.rows, " rows to ", out, " from ", stats.events,
                      " events (", stats.zero_weight, " with weight 0, ", stats.without_user,
                      " without user_id, ", stats.line_breaks,
                      " with a line break in an id)");
}

}  // namespace affinity::cli
