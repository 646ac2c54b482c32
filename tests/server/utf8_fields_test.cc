// CheckUtf8Fields on request bytes: each string field of the Recommender
// and CatalogAdmin requests named with its path when it holds invalid
// UTF-8, unknown fields left alone, malformed bytes refused, and agreement
// with protobuf's own parse on many damaged requests.
#include "server/rpc/utf8_fields.h"

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "affinity/v1/admin.pb.h"
#include "affinity/v1/recommender.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::server {
namespace {

using affinity::v1::DeleteItemsRequest;
using affinity::v1::RecommendRequest;
using affinity::v1::ReportOutcomeRequest;
using affinity::v1::SimilarItemsRequest;
using affinity::v1::UpsertItemsRequest;
using google::protobuf::UnknownFieldSet;
using ::testing::HasSubstr;

// Request bytes written field by field, so that string fields can hold
// bytes a generated message would not serialize.
class Wire {
 public:
  Wire& Bytes(int field, const std::string& value) {
    UnknownFieldSet one;
    one.AddLengthDelimited(field, value);
    return Append(one);
  }
  Wire& Message(int field, const Wire& nested) { return Bytes(field, nested.str()); }
  Wire& Varint(int field, uint64_t value) {
    UnknownFieldSet one;
    one.AddVarint(field, value);
    return Append(one);
  }
  const std::string& str() const { return bytes_; }

 private:
  Wire& Append(const UnknownFieldSet& one) {
    std::string field;
    EXPECT_TRUE(one.SerializeToString(&field));
    bytes_ += field;
    return *this;
  }
  std::string bytes_;
};

template <class Request>
absl::Status Check(const Wire& wire) {
  return CheckUtf8Fields(*Request::descriptor(), wire.str());
}

template <class Request>
std::string Error(const Wire& wire) {
  absl::Status s = Check<Request>(wire);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  return std::string(s.message());
}

TEST(CheckUtf8FieldsTest, ValidRequestsPass) {
  RecommendRequest request;
  request.set_user_id("caf\xC3\xA9");
  request.set_k(10);
  request.add_recent()->set_item_id("\xE2\x82\xAC");
  request.add_exclude_item_ids("x");
  request.add_filters()->add_any_of("\xF0\x9F\x8E\xAC");
  std::string bytes;
  ASSERT_TRUE(request.SerializeToString(&bytes));
  EXPECT_TRUE(CheckUtf8Fields(*RecommendRequest::descriptor(), bytes).ok());
  EXPECT_TRUE(CheckUtf8Fields(*RecommendRequest::descriptor(), "").ok());
}

TEST(CheckUtf8FieldsTest, NamesEveryStringFieldOfTheRecommenderRequests) {
  const std::string bad = "Jos\xE9";
  EXPECT_EQ(Error<RecommendRequest>(Wire().Bytes(1, bad).Varint(2, 5)),
            "user_id: expected valid UTF-8, got byte 0xE9 at offset 3");
  EXPECT_EQ(Error<RecommendRequest>(
                Wire().Message(3, Wire().Bytes(1, "a")).Message(3, Wire().Bytes(1, "\xC0\xAF"))),
            "recent[1].item_id: expected valid UTF-8, got byte 0xC0 at offset 0");
  EXPECT_EQ(Error<RecommendRequest>(Wire().Bytes(4, "a").Bytes(4, "b").Bytes(4, "\xED\xA0\x80")),
            "exclude_item_ids[2]: expected valid UTF-8, got byte 0xED at offset 0");
  EXPECT_EQ(Error<RecommendRequest>(Wire().Bytes(5, bad)),
            "rule_set: expected valid UTF-8, got byte 0xE9 at offset 3");
  EXPECT_EQ(Error<RecommendRequest>(Wire().Message(7, Wire().Bytes(1, "brand").Bytes(2, "ok"))
                                        .Message(7, Wire().Bytes(3, "x").Bytes(3, "\xF4\x90\x80\x80"))),
            "filters[1].none_of[1]: expected valid UTF-8, got byte 0xF4 at offset 0");
  EXPECT_THAT(Error<RecommendRequest>(Wire().Message(7, Wire().Bytes(7, bad))),
              HasSubstr("filters[0].newer_than: expected valid UTF-8"));
  EXPECT_THAT(Error<RecommendRequest>(Wire().Bytes(8, "\xE2\x82")),
              HasSubstr("session_id: expected valid UTF-8, got byte 0xE2 at offset 0"));
  EXPECT_THAT(Error<RecommendRequest>(Wire().Bytes(9, bad)), HasSubstr("arm: "));

  EXPECT_THAT(Error<SimilarItemsRequest>(Wire().Bytes(1, bad)), HasSubstr("item_id: "));
  EXPECT_THAT(Error<SimilarItemsRequest>(Wire().Bytes(3, "ok").Bytes(3, bad)),
              HasSubstr("exclude_item_ids[1]: "));
  EXPECT_THAT(Error<SimilarItemsRequest>(Wire().Message(6, Wire().Bytes(1, bad))),
              HasSubstr("filters[0].attribute: "));

  const Wire ok_outcome = Wire().Bytes(1, "r1").Bytes(5, "i");
  for (const auto& [field, name] : std::vector<std::pair<int, std::string>>{
           {1, "request_id"}, {2, "user_id"}, {3, "arm"}, {5, "item_id"}, {8, "session_id"}}) {
    EXPECT_EQ(Error<ReportOutcomeRequest>(
                  Wire().Message(1, ok_outcome).Message(1, Wire().Bytes(field, bad))),
              "outcomes[1]." + name + ": expected valid UTF-8, got byte 0xE9 at offset 3");
  }
}

TEST(CheckUtf8FieldsTest, NamesTheCatalogAdminFields) {
  EXPECT_EQ(Error<UpsertItemsRequest>(
                Wire().Message(1, Wire().Bytes(1, "a")).Message(1, Wire().Bytes(2, "Caf\xE9"))),
            "items[1].title: expected valid UTF-8, got byte 0xE9 at offset 3");
  EXPECT_THAT(Error<UpsertItemsRequest>(Wire().Message(1, Wire().Bytes(1, "\xFF"))),
              HasSubstr("items[0].item_id: "));
  const int categories = affinity::v1::CatalogItem::kCategoriesFieldNumber;
  EXPECT_THAT(Error<UpsertItemsRequest>(
                  Wire().Message(1, Wire().Bytes(categories, "a").Bytes(categories, "\x80"))),
              HasSubstr("items[0].categories[1]: "));
  EXPECT_EQ(Error<DeleteItemsRequest>(Wire().Bytes(1, "a").Bytes(1, "b\xFC")),
            "item_ids[1]: expected valid UTF-8, got byte 0xFC at offset 1");
}

TEST(CheckUtf8FieldsTest, UnknownFieldsAndOtherWireTypesAreNotLookedInto) {
  // Field 99 is unknown; field 1 (user_id) sent as a varint is unknown to
  // protobuf too; field 2 (k) as bytes likewise.
  const Wire wire = Wire().Bytes(99, "\xFF\xFE").Varint(1, 7).Bytes(2, "\xFF").Bytes(1, "ok");
  EXPECT_TRUE(Check<RecommendRequest>(wire).ok());
  RecommendRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(wire.str()));
}

TEST(CheckUtf8FieldsTest, MalformedBytesAreRefused) {
  for (const std::string& bytes :
       {std::string("\x0A\x05" "ab", 4),        // user_id longer than the bytes left
        std::string("\x0A", 1),                  // no length
        std::string("\x10\xFF", 2),              // truncated varint
        std::string("\x00\x01", 2),              // field number 0
        std::string("\x0E\x01", 2),              // wire type 6
        std::string("\x0B\x10\x01", 3),          // group 1 never closed
        std::string("\x0C", 1)}) {               // end of a group never opened
    absl::Status s = CheckUtf8Fields(*RecommendRequest::descriptor(), bytes);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << absl::CHexEscape(bytes);
    EXPECT_THAT(s.message(), HasSubstr("request: expected a serialized affinity.v1."
                                       "RecommendRequest"));
  }
  // A group (unknown to proto3) that is closed is fine.
  EXPECT_TRUE(CheckUtf8Fields(*RecommendRequest::descriptor(),
                              std::string("\x5B\x10\x01\x5C", 4))
                  .ok());
}

TEST(CheckUtf8FieldsTest, AgreesWithProtobufOnDamagedRequests) {
  RecommendRequest request;
  request.set_user_id("user-\xC3\xA9t\xC3\xA9");
  request.set_k(10);
  for (int i = 0; i < 3; ++i) {
    auto* recent = request.add_recent();
    recent->set_item_id("item-\xE2\x82\xAC" + std::to_string(i));
    recent->set_weight(1.5f);
  }
  request.add_exclude_item_ids("ex-\xF0\x9F\x8E\xAC");
  auto* filter = request.add_filters();
  filter->set_attribute("brand");
  filter->add_any_of("Acme \xC3\xBC");
  filter->set_min(2.0);
  request.set_session_id("s");
  std::string valid;
  ASSERT_TRUE(request.SerializeToString(&valid));

  google::protobuf::LogSilencer quiet;  // protobuf logs each UTF-8 refusal
  std::mt19937 rng(7);
  int refused = 0, named = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes = valid;
    const int changes = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < changes; ++c) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes[at] = static_cast<char>(0x80 | (rng() & 0x7F));  // UTF-8 damage
          break;
        default:
          bytes.resize(at);  // truncation
          break;
      }
      if (bytes.empty()) break;
    }
    RecommendRequest parsed;
    const bool protobuf_ok = parsed.ParseFromString(bytes);
    const absl::Status checked = CheckUtf8Fields(*RecommendRequest::descriptor(), bytes);
    ASSERT_EQ(protobuf_ok, checked.ok()) << checked << " for " << absl::CHexEscape(bytes);
    if (!checked.ok()) ++refused;
    if (absl::StrContains(checked.message(), "expected valid UTF-8")) ++named;
  }
  // Both kinds of damage were met often.
  EXPECT_GT(refused, 5000);
  EXPECT_GT(named, 1000);
}

}  // namespace
}  // namespace affinity::server
