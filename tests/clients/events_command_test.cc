// `affinity events export`: events appended to a store (two server
// instances) come out as the expected training CSV, which the trainer's
// interactions reader reads back; flag parsing; and a failed export leaves
// the output file as it was.
#include "tools/cli/events_command.h"

#include <dirent.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "affinity/v1/outcomes.pb.h"
#include "gtest/gtest.h"
#include "storage/event_store.h"
#include "trainer/data/interactions_reader.h"

namespace affinity::cli {
namespace {

using affinity::v1::EventType;
using affinity::v1::Outcome;

constexpr int64_t kSecond = 1000000;
// 2026-11-01T00:00:00Z in Unix seconds.
constexpr int64_t kNov1 = 1793491200;

std::string MakeDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(root && *root ? root : "/tmp") + "/eventsXXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
  return pattern;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

Outcome Event(int64_t seconds, EventType type, const std::string& user,
              const std::string& item) {
  Outcome e;
  e.set_request_id(absl::StrCat("r", seconds));
  e.set_user_id(user);
  e.set_arm("control");
  e.set_model_version(12);
  e.set_item_id(item);
  e.set_event(type);
  // Microseconds are dropped by the export (timestamps are in seconds).
  e.set_at_unix_micros(seconds * kSecond + 123456);
  return e;
}

void Append(const std::string& dir, const std::string& instance,
            const std::vector<Outcome>& events) {
  absl::StatusOr<std::unique_ptr<storage::EventStore>> store =
      storage::EventStore::Open(dir, instance);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<int64_t> added = (*store)->Append(events);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_EQ(*added, static_cast<int64_t>(events.size()));
}

// A store with events of two instances around November 1st.
std::string MakeStore() {
  const std::string dir = MakeDir();
  Append(dir, "web-1",
         {Event(kNov1 - 1, affinity::v1::CLICK, "u0", "before"),
          Event(kNov1 + 60, affinity::v1::CLICK, "u1", "m1"),
          Event(kNov1 + 61, affinity::v1::IMPRESSION, "u1", "m1"),
          Event(kNov1 + 63, affinity::v1::CLICK, "", "m1"),
          Event(kNov1 + 65, affinity::v1::CLICK, "u1", "m1"),
          Event(kNov1 + 66, affinity::v1::CLICK, "u3", "two\nlines")});
  Append(dir, "web-2",
         {Event(kNov1 + 62, affinity::v1::CONVERSION, "u2", "it,em"),
          Event(kNov1 + 64, affinity::v1::CLICK, " padded ", "say \"hi\""),
          Event(kNov1 + 3600, affinity::v1::CLICK, "u9", "later")});
  return dir;
}

TEST(EventsExportTest, WritesTheTrainingCsvTheTrainerReadsBack) {
  const std::string dir = MakeStore();
  ExportOptions options;
  options.db = dir;
  options.since_unix_micros = kNov1 * kSecond;
  options.until_unix_micros = (kNov1 + 3600) * kSecond;
  options.out = dir + "/interactions.csv";
  absl::StatusOr<ExportStats> stats = ExportEvents(options);
  ASSERT_TRUE(stats.ok()) << stats.status();

  // In time order across both instances; before since and at until are
  // out; the impression weighs 0, the anonymous click has no user, the id
  // with a line break cannot be one CSV line.
  EXPECT_EQ(ReadFile(options.out),
            "user,item,weight,timestamp\n"
            "u1,m1,1,1793491260\n"
            "u2,\"it,em\",5,1793491262\n"
            "\" padded \",\"say \"\"hi\"\"\",1,1793491264\n"
            "u1,m1,1,1793491265\n");
  EXPECT_EQ(stats->events, 7);
  EXPECT_EQ(stats->rows, 4);
  EXPECT_EQ(stats->zero_weight, 1);
  EXPECT_EQ(stats->without_user, 1);
  EXPECT_EQ(stats->line_breaks, 1);
  EXPECT_EQ(DescribeExport(*stats, "F"),
            "exported 4 rows to F from 7 events (1 with weight 0, 1 without user_id, 1 with "
            "a line break in an id)");
  // Only the output is left beside the store: no temporary file.
  EXPECT_EQ(ListDir(dir).size(), 2u);  // events/ and interactions.csv

  // The trainer reads it: ids back byte for byte, the two u1/m1 rows summed,
  // the latest timestamp kept.
  absl::StatusOr<Interactions> read = ReadInteractions(options.out);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->stats.has_header);
  EXPECT_EQ(read->stats.columns, 4);
  std::map<std::pair<std::string, std::string>, std::pair<float, int64_t>> entries;
  for (int64_t u = 0; u < read->matrix.rows(); ++u) {
    for (int64_t k = read->matrix.indptr()[u]; k < read->matrix.indptr()[u + 1]; ++k) {
      entries[{read->user_ids[u], read->item_ids[read->matrix.indices()[k]]}] = {
          read->matrix.values()[k], read->timestamps[k]};
    }
  }
  using Entry = std::pair<float, int64_t>;
  EXPECT_EQ(entries.size(), 3u);
  EXPECT_EQ((entries[{"u1", "m1"}]), (Entry{2.0f, kNov1 + 65}));
  EXPECT_EQ((entries[{"u2", "it,em"}]), (Entry{5.0f, kNov1 + 62}));
  EXPECT_EQ((entries[{" padded ", "say \"hi\""}]), (Entry{1.0f, kNov1 + 64}));
}

TEST(EventsExportTest, WeightsChooseTheRows) {
  const std::string dir = MakeStore();
  ExportOptions options;
  options.db = dir;
  options.since_unix_micros = kNov1 * kSecond;
  options.out = dir + "/out.csv";
  absl::StatusOr<EventWeights> weights = ParseEventWeights("impression:0.5");
  ASSERT_TRUE(weights.ok()) << weights.status();
  options.weights = *weights;
  absl::StatusOr<ExportStats> stats = ExportEvents(options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ReadFile(options.out), "user,item,weight,timestamp\nu1,m1,0.5,1793491261\n");
  EXPECT_EQ(stats->events, 8);  // no --until: the later click counts too
  EXPECT_EQ(stats->zero_weight, 7);
}

TEST(EventsExportTest, FailedExportLeavesTheOutputAlone) {
  const std::string dir = MakeDir();
  const std::string out = dir + "/keep.csv";
  std::ofstream(out) << "old contents\n";
  ExportOptions options;
  options.db = dir;  // no events/ here
  options.out = out;
  absl::StatusOr<ExportStats> stats = ExportEvents(options);
  EXPECT_TRUE(absl::IsNotFound(stats.status())) << stats.status();
  EXPECT_TRUE(absl::StrContains(stats.status().message(), dir + "/events")) << stats.status();
  EXPECT_EQ(ReadFile(out), "old contents\n");

  const std::string store = MakeStore();
  options.db = store;
  options.out = store + "/missing-dir/out.csv";
  stats = ExportEvents(options);
  EXPECT_FALSE(stats.ok());
  EXPECT_TRUE(absl::StrContains(stats.status().message(), options.out)) << stats.status();
}

TEST(EventsFlagsTest, ParseEventWeights) {
  absl::StatusOr<EventWeights> w = ParseEventWeights("click:1,conversion:5,impression:0");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->click, 1);
  EXPECT_EQ(w->conversion, 5);
  EXPECT_EQ(w->impression, 0);
  w = ParseEventWeights(" Conversion:2.5 ");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->conversion, 2.5);
  EXPECT_EQ(w->click, 0);  // not listed: 0
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"", "--weights: empty"},
           {"click", "--weights entry 1 \"click\": missing ':weight'"},
           {"click:1,view:2", "--weights entry 2 \"view:2\": unknown event type"},
           {"click:-1", "bad weight, expected a finite number >= 0"},
           {"click:nan", "bad weight"},
           {"click:x", "bad weight"},
           {"click:1,click:2", "click given twice"}}) {
    absl::StatusOr<EventWeights> bad = ParseEventWeights(text);
    EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << text << ": " << bad.status();
    EXPECT_TRUE(absl::StrContains(bad.status().message(), message))
        << text << ": " << bad.status();
  }
}

TEST(EventsFlagsTest, ParseTimeFlag) {
  EXPECT_EQ(*ParseTimeFlag("2026-11-01", "--since"), kNov1 * kSecond);
  EXPECT_EQ(*ParseTimeFlag("1793491200", "--since"), kNov1 * kSecond);
  EXPECT_EQ(*ParseTimeFlag("2026-11-01T12:00:00Z", "--since"), (kNov1 + 43200) * kSecond);
  EXPECT_EQ(*ParseTimeFlag("2026-11-01T13:00:00+01:00", "--until"),
            (kNov1 + 43200) * kSecond);
  for (const std::string bad : {"", "2026-13-01", "yesterday", "-5", "1969-12-31",
                                "99999999999999999999"}) {
    absl::StatusOr<int64_t> t = ParseTimeFlag(bad, "--since");
    EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << bad << ": " << t.status();
    EXPECT_TRUE(absl::StartsWith(t.status().message(), "--since: ")) << t.status();
  }
}

}  // namespace
}  // namespace affinity::cli
