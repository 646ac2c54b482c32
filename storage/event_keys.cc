#include "storage/event_keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "storage/keys.h"

namespace affinity::storage::event_keys {
namespace {

constexpr absl::string_view kEvents = "e/";
constexpr absl::string_view kCounters = "n/";

void AppendBe32(uint32_t value, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

void AppendField(absl::string_view field, std::string* out) {
  AppendBe32(static_cast<uint32_t>(field.size()), out);
  out->append(field.data(), field.size());
}

}  // namespace

std::string Event(const affinity::v1::Outcome& outcome) {
  std::string key = EventsFrom(outcome.at_unix_micros());
  key.push_back(static_cast<char>(static_cast<uint8_t>(outcome.event())));
  AppendField(outcome.request_id(), &key);
  AppendField(outcome.user_id(), &key);
  AppendField(outcome.session_id(), &key);
  AppendField(outcome.item_id(), &key);
  return key;
}

std::string EventsFrom(int64_t at_unix_micros) {
  const uint64_t at = at_unix_micros < 0 ? 0 : static_cast<uint64_t>(at_unix_micros);
  return absl::StrCat(kEvents, keys::EncodeBe64(at));
}

std::string EventsEnd() { return keys::PrefixEnd(kEvents); }

std::optional<int64_t> ParseEventTime(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kEvents) || key.size() < 9) return std::nullopt;
  std::optional<uint64_t> at = keys::DecodeBe64(key.substr(0, 8));
  if (!at.has_value() || *at > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*at);
}

std::string Counter(const CounterId& id) {
  std::string key(kCounters);
  key.push_back(static_cast<char>(id.kind));
  key.push_back(id.forced ? '\1' : '\0');
  absl::StrAppend(&key, keys::EncodeBe64(id.model_version), id.arm);
  return key;
}

std::string CountersBegin() { return std::string(kCounters); }
std::string CountersEnd() { return keys::PrefixEnd(kCounters); }

std::optional<CounterId> ParseCounter(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kCounters) || key.size() < 10) return std::nullopt;
  const uint8_t kind = static_cast<uint8_t>(key[0]);
  const uint8_t forced = static_cast<uint8_t>(key[1]);
  if (kind > static_cast<uint8_t>(CounterKind::kConversions) || forced > 1) {
    return std::nullopt;
  }
  CounterId id;
  id.kind = static_cast<CounterKind>(kind);
  id.forced = forced == 1;
  id.model_version = *keys::DecodeBe64(key.substr(2, 8));
  id.arm = std::string(key.substr(10));
  return id;
}

std::optional<CounterKind> KindOfEvent(affinity::v1::EventType type) {
  switch (type) {
    case affinity::v1::IMPRESSION:
      return CounterKind::kImpressions;
    case affinity::v1::CLICK:
      return CounterKind::kClicks;
    case affinity::v1::CONVERSION:
      return CounterKind::kConversions;
    default:
      return std::nullopt;
  }
}

std::string EncodeCount(uint64_t count) { return keys::EncodeBe64(count); }
std::optional<uint64_t> DecodeCount(absl::string_view bytes) {
  return keys::DecodeBe64(bytes);
}

}  // namespace affinity::storage::event_keys
