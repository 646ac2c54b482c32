// The outcome event store and reader: append and read back, reopen,
// idempotent retries, validation, counters equal to the events, retention,
// several instances read together, and one writer per database.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "affinity/v1/outcomes.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/debug.h"
#include "storage/event_keys.h"
#include "storage/event_reader.h"
#include "storage/event_store.h"
#include "tests/storage/test_dir.h"

namespace affinity::storage {
namespace {

using affinity::v1::EventType;
using affinity::v1::Outcome;
using ::affinity::storage::testing::MakeTestDir;

constexpr int64_t kDay = int64_t{86400} * 1000000;
// 2026-11-01T00:00:00Z.
constexpr int64_t kNov1 = int64_t{1793491200} * 1000000;

Outcome Event(int64_t at, EventType type, const std::string& user,
              const std::string& item, const std::string& arm = "control",
              uint64_t version = 12, bool forced = false) {
  Outcome e;
  e.set_request_id(absl::StrCat("r-", user, "-", at));
  e.set_user_id(user);
  e.set_session_id(absl::StrCat("s-", user));
  e.set_arm(arm);
  e.set_model_version(version);
  e.set_item_id(item);
  e.set_event(type);
  e.set_at_unix_micros(at);
  e.set_forced_arm(forced);
  return e;
}

std::unique_ptr<EventStore> OpenStore(const std::string& dir, const std::string& instance,
                                      EventStoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(dir, instance, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::unique_ptr<EventReader> OpenReader(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<EventReader>> reader = EventReader::Open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? *std::move(reader) : nullptr;
}

int64_t AppendOk(EventStore& store, const std::vector<Outcome>& events) {
  absl::StatusOr<int64_t> added = store.Append(events);
  EXPECT_TRUE(added.ok()) << added.status();
  return added.ok() ? *added : -1;
}

std::vector<Outcome> ReadAll(const EventReader& reader, int64_t since = 0,
                             int64_t until = INT64_MAX) {
  std::vector<Outcome> events;
  absl::Status s = reader.ForEachEvent(since, until, [&](const Outcome& e) {
    events.push_back(e);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return events;
}

void ExpectSameEvents(const std::vector<Outcome>& got, const std::vector<Outcome>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got[i], want[i]))
        << "event " << i << ": got " << got[i].ShortDebugString() << "\nwant "
        << want[i].ShortDebugString();
  }
}

using GroupKey = std::tuple<std::string, uint64_t, bool>;

std::map<GroupKey, OutcomeCounts> CountsByGroup(const EventReader& reader) {
  absl::StatusOr<std::vector<ArmOutcomeCounts>> counts = reader.Counts();
  EXPECT_TRUE(counts.ok()) << counts.status();
  std::map<GroupKey, OutcomeCounts> out;
  if (!counts.ok()) return out;
  for (const ArmOutcomeCounts& c : *counts) {
    EXPECT_TRUE(out.emplace(GroupKey{c.arm, c.model_version, c.forced}, c.counts).second)
        << "group listed twice: " << c.arm;
  }
  return out;
}

// The counts a list of distinct events implies.
std::map<GroupKey, OutcomeCounts> CountEvents(const std::vector<Outcome>& events) {
  std::map<GroupKey, OutcomeCounts> out;
  for (const Outcome& e : events) {
    OutcomeCounts& c = out[GroupKey{e.arm(), e.model_version(), e.forced_arm()}];
    if (e.event() == affinity::v1::IMPRESSION) ++c.impressions;
    if (e.event() == affinity::v1::CLICK) ++c.clicks;
    if (e.event() == affinity::v1::CONVERSION) ++c.conversions;
  }
  return out;
}

void ExpectCounts(const std::map<GroupKey, OutcomeCounts>& got,
                  const std::map<GroupKey, OutcomeCounts>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, w] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << std::get<0>(key) << " v" << std::get<1>(key);
    const OutcomeCounts& g = it->second;
    EXPECT_EQ(g.requests, w.requests) << std::get<0>(key);
    EXPECT_EQ(g.impressions, w.impressions) << std::get<0>(key);
    EXPECT_EQ(g.clicks, w.clicks) << std::get<0>(key);
    EXPECT_EQ(g.conversions, w.conversions) << std::get<0>(key);
  }
}

TEST(EventStoreTest, AppendedEventsReadBackInTimeOrderWhileTheWriterIsOpen) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<EventStore> store = OpenStore(dir, "server-1");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), dir + "/events/server-1");
  const Outcome click = Event(kNov1 + 30, affinity::v1::CLICK, "u1", "i9");
  const Outcome impression = Event(kNov1 + 10, affinity::v1::IMPRESSION, "u1", "i9");
  const Outcome conversion =
      Event(kNov1 + 20, affinity::v1::CONVERSION, "", "i,\"7\"", "treatment", 13, true);
  EXPECT_EQ(AppendOk(*store, {click, impression}), 2);
  EXPECT_EQ(AppendOk(*store, {conversion}), 1);

  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->instances(), std::vector<std::string>{"server-1"});
  ExpectSameEvents(ReadAll(*reader), {impression, conversion, click});
  // since is inclusive, until exclusive.
  ExpectSameEvents(ReadAll(*reader, kNov1 + 20), {conversion, click});
  ExpectSameEvents(ReadAll(*reader, kNov1 + 11, kNov1 + 30), {conversion});
  EXPECT_TRUE(ReadAll(*reader, kNov1 + 31).empty());

  std::map<GroupKey, OutcomeCounts> want;
  want[{"control", 12, false}] = OutcomeCounts{0, 1, 1, 0};
  want[{"treatment", 13, true}] = OutcomeCounts{0, 0, 0, 1};
  ExpectCounts(CountsByGroup(*reader), want);

  // fn's error stops the scan and is returned.
  int calls = 0;
  absl::Status s = reader->ForEachEvent(0, [&](const Outcome&) {
    ++calls;
    return absl::CancelledError("enough");
  });
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(calls, 1);
}

TEST(EventStoreTest, EventsAndCountersSurviveClosingAndReopening) {
  const std::string dir = MakeTestDir();
  const std::vector<Outcome> first = {Event(kNov1 + 1, affinity::v1::IMPRESSION, "u1", "a"),
                                      Event(kNov1 + 2, affinity::v1::CLICK, "u1", "a")};
  const Outcome later = Event(kNov1 + 3, affinity::v1::IMPRESSION, "u2", "b");
  {
    std::unique_ptr<EventStore> store = OpenStore(dir, "s1");
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(AppendOk(*store, first), 2);
    ASSERT_TRUE(store->AddRequests("control", 12, false, 5).ok());
  }
  {
    std::unique_ptr<EventStore> store = OpenStore(dir, "s1");
    ASSERT_NE(store, nullptr);
    // A retried report of stored events is not stored or counted again.
    EXPECT_EQ(AppendOk(*store, first), 0);
    EXPECT_EQ(AppendOk(*store, {later, first[1], later}), 1);
    ASSERT_TRUE(store->AddRequests("control", 12, false, 2).ok());
  }
  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  ExpectSameEvents(ReadAll(*reader), {first[0], first[1], later});
  std::map<GroupKey, OutcomeCounts> want;
  want[{"control", 12, false}] = OutcomeCounts{7, 2, 1, 0};
  ExpectCounts(CountsByGroup(*reader), want);
}

TEST(EventStoreTest, AppendSaysWhichEventsItStored) {
  std::unique_ptr<EventStore> store = OpenStore(MakeTestDir(), "s1");
  ASSERT_NE(store, nullptr);
  const Outcome a = Event(kNov1 + 1, affinity::v1::IMPRESSION, "u1", "a");
  const Outcome b = Event(kNov1 + 2, affinity::v1::CLICK, "u1", "a");
  const Outcome c = Event(kNov1 + 3, affinity::v1::IMPRESSION, "u2", "b");
  std::vector<bool> stored;
  absl::StatusOr<int64_t> added = store->Append({a, b}, &stored);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 2);
  EXPECT_EQ(stored, (std::vector<bool>{true, true}));
  // Stored before, new, repeated within the call, stored before.
  added = store->Append({b, c, c, a}, &stored);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 1);
  EXPECT_EQ(stored, (std::vector<bool>{false, true, false, false}));
  // A refused call stores nothing and says so.
  Outcome bad = c;
  bad.clear_arm();
  stored.assign(3, true);
  EXPECT_FALSE(store->Append({a, bad, c}, &stored).ok());
  EXPECT_EQ(stored, (std::vector<bool>{false, false, false}));
}

TEST(EventStoreTest, CountersEqualTheDistinctEventsAppended) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<EventStore> store = OpenStore(dir, "s1");
  ASSERT_NE(store, nullptr);
  std::mt19937 rng(7);
  const std::vector<std::string> arms = {"control", "treatment", "v14"};
  const EventType types[] = {affinity::v1::IMPRESSION, affinity::v1::CLICK,
                             affinity::v1::CONVERSION};
  std::vector<Outcome> all;
  for (int i = 0; i < 600; ++i) {
    all.push_back(Event(kNov1 + static_cast<int64_t>(rng() % 200),
                        types[rng() % 3], absl::StrCat("u", rng() % 20),
                        absl::StrCat("i", rng() % 10), arms[rng() % 3],
                        12 + rng() % 2, rng() % 4 == 0));
  }
  // Distinct by identity (the key), first occurrence kept.
  std::set<std::string> seen;
  std::vector<Outcome> distinct;
  for (const Outcome& e : all) {
    if (seen.insert(event_keys::Event(e)).second) distinct.push_back(e);
  }
  ASSERT_LT(distinct.size(), all.size());  // the draw has duplicates

  std::map<GroupKey, OutcomeCounts> requests;
  int64_t added = 0;
  for (size_t begin = 0; begin < all.size();) {
    const size_t size = std::min<size_t>(1 + rng() % 50, all.size() - begin);
    added += AppendOk(*store, std::vector<Outcome>(all.begin() + begin,
                                                   all.begin() + begin + size));
    begin += size;
    const std::string& arm = arms[rng() % 3];
    const uint64_t n = 1 + rng() % 100;
    ASSERT_TRUE(store->AddRequests(arm, 12, false, n).ok());
    requests[GroupKey{arm, 12, false}].requests += static_cast<int64_t>(n);
  }
  EXPECT_EQ(added, static_cast<int64_t>(distinct.size()));

  std::map<GroupKey, OutcomeCounts> want = CountEvents(distinct);
  for (const auto& [key, c] : requests) want[key].requests = c.requests;
  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  ExpectCounts(CountsByGroup(*reader), want);
  // And the events themselves are exactly the distinct ones, by time.
  const std::vector<Outcome> read = ReadAll(*reader);
  EXPECT_EQ(read.size(), distinct.size());
  EXPECT_TRUE(std::is_sorted(read.begin(), read.end(), [](const Outcome& a, const Outcome& b) {
    return a.at_unix_micros() < b.at_unix_micros();
  }));
  ExpectCounts(CountEvents(read), CountEvents(distinct));
}

TEST(EventStoreTest, BadEventsAreNamedAndNothingIsWritten) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<EventStore> store = OpenStore(dir, "s1");
  ASSERT_NE(store, nullptr);
  const Outcome good = Event(kNov1, affinity::v1::CLICK, "u", "i");
  struct Case {
    std::function<void(Outcome*)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Outcome* e) { e->set_event(affinity::v1::EVENT_TYPE_UNSPECIFIED); },
       "events[1].event: EVENT_TYPE_UNSPECIFIED (0), expected IMPRESSION, CLICK or CONVERSION"},
      {[](Outcome* e) { e->set_arm(""); }, "events[1].arm: empty, expected a value"},
      {[](Outcome* e) { e->set_item_id(""); }, "events[1].item_id: empty"},
      {[](Outcome* e) { e->set_at_unix_micros(0); }, "events[1].at_unix_micros: 0, expected"},
      {[](Outcome* e) { e->set_at_unix_micros(-5); }, "events[1].at_unix_micros: -5"},
      {[](Outcome* e) { e->set_user_id(std::string(1025, 'u')); },
       "events[1].user_id: 1025 bytes, expected at most 1024"},
  };
  for (const Case& c : cases) {
    Outcome bad = Event(kNov1 + 1, affinity::v1::IMPRESSION, "u", "i");
    c.spoil(&bad);
    absl::StatusOr<int64_t> added = store->Append({good, bad});
    EXPECT_TRUE(absl::IsInvalidArgument(added.status())) << added.status();
    EXPECT_TRUE(absl::StrContains(added.status().message(), c.message)) << added.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(store->AddRequests("", 1, false, 1)));
  // An empty user_id is allowed.
  EXPECT_EQ(AppendOk(*store, {Event(kNov1 + 2, affinity::v1::CLICK, "", "i")}), 1);

  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  const std::vector<Outcome> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].user_id(), "");
}

// Stored versions of event keys (live, overwritten or deleted alike) in the
// database at `path`, opened read-only.
size_t StoredEventKeyVersions(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<rocksdb::KeyVersion> versions;
  status = rocksdb::GetAllKeyVersions(db.get(), event_keys::EventsFrom(0),
                                      event_keys::EventsEnd(), 1000, &versions);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return versions.size();
}

TEST(EventStoreTest, RetentionDeletesOldEventsOnlyAndKeepsCounters) {
  const std::string dir = MakeTestDir();
  EventStoreOptions options;
  options.retention_days = 90;
  std::unique_ptr<EventStore> store = OpenStore(dir, "s1", options);
  ASSERT_NE(store, nullptr);
  const int64_t now = kNov1 + 200 * kDay;
  const std::vector<Outcome> events = {
      Event(now - 120 * kDay, affinity::v1::IMPRESSION, "u1", "a"),
      Event(now - 90 * kDay - 1, affinity::v1::CLICK, "u1", "a"),
      Event(now - 90 * kDay, affinity::v1::IMPRESSION, "u2", "b"),
      Event(now - kDay, affinity::v1::CONVERSION, "u2", "b")};
  EXPECT_EQ(AppendOk(*store, events), 4);
  ASSERT_TRUE(store->ApplyRetention(absl::FromUnixMicros(now)).ok());

  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  ExpectSameEvents(ReadAll(*reader), {events[2], events[3]});
  std::map<GroupKey, OutcomeCounts> want;
  want[{"control", 12, false}] = OutcomeCounts{0, 2, 1, 1};
  ExpectCounts(CountsByGroup(*reader), want);

  // The deleted events are gone from the files too, not only hidden by the
  // range deletion: every stored version of every event key is listed.
  store.reset();
  reader.reset();
  EXPECT_EQ(StoredEventKeyVersions(dir + "/events/s1"), 2u);

  // retention_days = 0 keeps everything.
  const std::string keep_dir = MakeTestDir();
  options.retention_days = 0;
  store = OpenStore(keep_dir, "s1", options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(AppendOk(*store, events), 4);
  ASSERT_TRUE(store->ApplyRetention(absl::FromUnixMicros(now)).ok());
  reader = OpenReader(keep_dir);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader).size(), 4u);
}

TEST(EventStoreTest, InstancesAreSummedAndMergedInTimeOrder) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<EventStore> a = OpenStore(dir, "server-a");
  std::unique_ptr<EventStore> b = OpenStore(dir, "server-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const Outcome a1 = Event(kNov1 + 1, affinity::v1::IMPRESSION, "u1", "x");
  const Outcome a3 = Event(kNov1 + 3, affinity::v1::CLICK, "u1", "x");
  const Outcome b2 = Event(kNov1 + 2, affinity::v1::IMPRESSION, "u2", "y", "treatment", 13);
  const Outcome b3 = Event(kNov1 + 3, affinity::v1::IMPRESSION, "u3", "y");
  const Outcome b4 = Event(kNov1 + 4, affinity::v1::CLICK, "u2", "y", "treatment", 13);
  EXPECT_EQ(AppendOk(*a, {a3, a1}), 2);
  EXPECT_EQ(AppendOk(*b, {b4, b2, b3}), 3);
  ASSERT_TRUE(a->AddRequests("control", 12, false, 10).ok());
  ASSERT_TRUE(b->AddRequests("control", 12, false, 20).ok());
  ASSERT_TRUE(b->AddRequests("treatment", 13, false, 3).ok());
  ASSERT_TRUE(b->AddRequests("treatment", 13, true, 1).ok());

  std::unique_ptr<EventReader> reader = OpenReader(dir);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->instances(), (std::vector<std::string>{"server-a", "server-b"}));
  // At kNov1 + 3 both instances have an event: the CLICK key (event type
  // 2) sorts after the IMPRESSION key (1).
  ExpectSameEvents(ReadAll(*reader), {a1, b2, b3, a3, b4});

  std::map<GroupKey, OutcomeCounts> want;
  want[{"control", 12, false}] = OutcomeCounts{30, 2, 1, 0};
  want[{"treatment", 13, false}] = OutcomeCounts{3, 1, 1, 0};
  want[{"treatment", 13, true}] = OutcomeCounts{1, 0, 0, 0};
  ExpectCounts(CountsByGroup(*reader), want);
  absl::StatusOr<std::vector<ArmOutcomeCounts>> sorted = reader->Counts();
  ASSERT_TRUE(sorted.ok());
  ASSERT_EQ(sorted->size(), 3u);
  EXPECT_EQ((*sorted)[0].arm, "control");
  EXPECT_FALSE((*sorted)[1].forced);
  EXPECT_TRUE((*sorted)[2].forced);

  // Refresh sees new events of open instances and new instances.
  const Outcome a5 = Event(kNov1 + 5, affinity::v1::CONVERSION, "u1", "x");
  const Outcome c0 = Event(kNov1, affinity::v1::IMPRESSION, "u9", "z");
  EXPECT_EQ(AppendOk(*a, {a5}), 1);
  std::unique_ptr<EventStore> c = OpenStore(dir, "server-c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(AppendOk(*c, {c0}), 1);
  EXPECT_EQ(ReadAll(*reader).size(), 5u);
  ASSERT_TRUE(reader->Refresh().ok());
  EXPECT_EQ(reader->instances().size(), 3u);
  ExpectSameEvents(ReadAll(*reader), {c0, a1, b2, b3, a3, b4, a5});
}

TEST(EventStoreTest, OneWriterPerInstanceAndInstanceNamesAreChecked) {
  const std::string dir = MakeTestDir();
  std::unique_ptr<EventStore> store = OpenStore(dir, "s1");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<EventStore>> second = EventStore::Open(dir, "s1");
  EXPECT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), dir + "/events/s1"))
      << second.status();
  for (const std::string& bad : std::vector<std::string>{"", ".hidden", "a/b", "..", "sp ace", std::string(129, 'x')}) {
    absl::StatusOr<std::unique_ptr<EventStore>> s = EventStore::Open(dir, bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << bad << ": " << s.status();
  }
  EventStoreOptions negative;
  negative.retention_days = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(EventStore::Open(dir, "s2", negative).status()));

  EXPECT_TRUE(absl::IsNotFound(EventReader::Open(MakeTestDir()).status()));
}

TEST(EventKeysTest, EventKeysSortByTimeAndCountersParseBack) {
  Outcome e = Event(255, affinity::v1::CLICK, "u", "i");
  Outcome f = Event(256, affinity::v1::IMPRESSION, "a", "a");
  EXPECT_LT(event_keys::Event(e), event_keys::Event(f));
  EXPECT_LT(event_keys::Event(f), event_keys::EventsFrom(257));
  EXPECT_GE(event_keys::Event(f), event_keys::EventsFrom(256));
  EXPECT_EQ(event_keys::ParseEventTime(event_keys::Event(f)), 256);
  EXPECT_LT(event_keys::EventsFrom(INT64_MAX), event_keys::EventsEnd());
  // Fields are length-prefixed: moving bytes between ids changes the key.
  Outcome g = e;
  g.set_request_id(e.request_id() + "x");
  g.set_user_id("");
  Outcome h = e;
  h.set_user_id("x" + e.user_id());
  EXPECT_NE(event_keys::Event(g), event_keys::Event(h));

  event_keys::CounterId id;
  id.kind = event_keys::CounterKind::kClicks;
  id.forced = true;
  id.model_version = uint64_t{1} << 40;
  id.arm = "treat/ment";
  const std::string key = event_keys::Counter(id);
  EXPECT_GE(key, event_keys::CountersBegin());
  EXPECT_LT(key, event_keys::CountersEnd());
  std::optional<event_keys::CounterId> back = event_keys::ParseCounter(key);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, id.kind);
  EXPECT_EQ(back->forced, true);
  EXPECT_EQ(back->model_version, id.model_version);
  EXPECT_EQ(back->arm, "treat/ment");
  EXPECT_FALSE(event_keys::ParseCounter(event_keys::Event(e)).has_value());
  EXPECT_FALSE(event_keys::ParseEventTime(key).has_value());
}

}  // namespace
}  // namespace affinity::storage
