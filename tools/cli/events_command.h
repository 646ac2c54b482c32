// `affinity events export`: the outcome events of a store (DIR/events, every
// server instance, read as RocksDB secondaries so servers may keep writing)
// written as training interactions for affinity-train:
//
//   user,item,weight,timestamp
//   42,1259,1,1793491260
//
// one row per event with a non-zero weight for its type, in time order;
// timestamp in Unix seconds. Ids with a comma, a quote or surrounding blanks
// are quoted as in RFC 4180. Events without a user_id (anonymous sessions)
// are skipped and counted, as are events whose ids contain a line break.
// Duplicate (user, item) rows are left for the trainer, which sums them.
//
// Contract: the output appears complete or not at all (written to a
// temporary file in the same directory, fsynced and renamed over FILE);
// errors are absl::Status naming the flag or file; nothing throws. Not
// thread-safe (one export at a time per process is expected).
#ifndef AFFINITY_TOOLS_CLI_EVENTS_COMMAND_H_
#define AFFINITY_TOOLS_CLI_EVENTS_COMMAND_H_

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::cli {

// Training weight of each event type; 0 drops the type.
struct EventWeights {
  double impression = 0;
  double click = 1;
  double conversion = 5;
};

// "click:1,conversion:5,impression:0": types impression, click, conversion,
// each at most once, weights finite and >= 0; types not listed weigh 0.
// InvalidArgument naming the bad entry.
absl::StatusOr<EventWeights> ParseEventWeights(absl::string_view text);

// A time flag in Unix microseconds: "2026-11-01" (00:00 UTC), RFC 3339
// ("2026-11-01T12:00:00Z", "2026-11-01T13:00:00+01:00") or Unix seconds
// ("1793491200"). InvalidArgument "<flag>: ..." otherwise.
absl::StatusOr<int64_t> ParseTimeFlag(absl::string_view text, absl::string_view flag);

struct ExportOptions {
  std::string db;                    // the store directory (DIR of DIR/events)
  int64_t since_unix_micros = 0;     // inclusive
  int64_t until_unix_micros = std::numeric_limits<int64_t>::max();  // exclusive
  std::string out;                   // the CSV file written
  EventWeights weights;
};

struct ExportStats {
  int64_t events = 0;          // events in [since, until)
  int64_t rows = 0;            // rows written
  int64_t zero_weight = 0;     // skipped: their type weighs 0
  int64_t without_user = 0;    // skipped: empty user_id
  int64_t line_breaks = 0;     // skipped: an id contains '\n' or '\r'
};

// NotFound when DIR/events does not exist; the export's other errors name
// the output file. On error FILE is left as it was.
absl::StatusOr<ExportStats> ExportEvents(const ExportOptions& options);

// "exported 3 rows to FILE from 5 events (1 with weight 0, 1 without
// user_id, 0 with a line break in an id)".
std::string DescribeExport(const ExportStats& stats, absl::string_view out);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_EVENTS_COMMAND_H_
