#include "tools/cli/response_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tools/cli/grpc_error.h"

namespace affinity::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

affinity::v1::RecommendResponse SampleResponse() {
  affinity::v1::RecommendResponse response;
  response.set_model_version(7);
  response.set_arm("treatment");
  response.set_fallback(true);
  auto* a = response.add_items();
  a->set_item_id("m1");
  a->set_score(0.91234f);
  a->set_explanation("because m9");
  auto* b = response.add_items();
  b->set_item_id("m22");
  b->set_score(0.5f);
  b->set_from_fallback(true);
  return response;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(FormatTableTest, HeaderRowsAndTitles) {
  TitleLookup titles = [](absl::string_view id) -> std::string {
    return id == "m1" ? "Heat (1995)" : "";
  };
  const std::string table = FormatTable(SampleResponse(), titles, false);
  const std::vector<std::string> lines = Lines(table);
  ASSERT_GE(lines.size(), 4u) << table;
  EXPECT_THAT(lines[0], HasSubstr("model_version: 7"));
  EXPECT_THAT(lines[0], HasSubstr("arm: treatment"));
  EXPECT_THAT(lines[0], HasSubstr("fallback: yes"));
  EXPECT_THAT(lines[1], HasSubstr("item_id"));
  EXPECT_THAT(lines[2], ::testing::StartsWith("   1  m1"));
  EXPECT_THAT(lines[2], HasSubstr("0.9123"));
  EXPECT_THAT(lines[2], HasSubstr("Heat (1995)"));
  EXPECT_THAT(lines[2], Not(HasSubstr("*")));
  EXPECT_THAT(lines[3], ::testing::StartsWith("   2  m22"));
  EXPECT_THAT(lines[3], HasSubstr("*"));
  EXPECT_THAT(table, Not(HasSubstr("because m9")));
}

TEST(FormatTableTest, ExplanationsOnlyWhenAsked) {
  const std::string table = FormatTable(SampleResponse(), nullptr, true);
  EXPECT_THAT(table, HasSubstr("because m9"));
}

// Characters shown, counting each UTF-8 sequence once.
size_t Shown(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

TEST(FormatTableTest, ColumnsAlignWithMultibyteTitles) {
  TitleLookup titles = [](absl::string_view id) -> std::string {
    return id == "m1" ? "L\xc3\xa9on" : "Leon";  // both 4 characters wide
  };
  const std::string table = FormatTable(SampleResponse(), titles, true);
  const std::vector<std::string> lines = Lines(table);
  ASSERT_GE(lines.size(), 4u) << table;
  // The explanation starts under its header, whatever bytes the title took.
  const size_t header = lines[1].find("explanation");
  const size_t explained = lines[2].find("because m9");
  ASSERT_NE(header, std::string::npos) << table;
  ASSERT_NE(explained, std::string::npos) << table;
  EXPECT_NE(explained, header) << "the title should take more bytes than characters";
  EXPECT_EQ(Shown(lines[2].substr(0, explained)), Shown(lines[1].substr(0, header)))
      << table;
}

TEST(FormatTableTest, EmptyResponseSaysSo) {
  affinity::v1::RecommendResponse response;
  response.set_model_version(3);
  const std::string table = FormatTable(response, nullptr, false);
  EXPECT_THAT(table, HasSubstr("model_version: 3"));
  EXPECT_THAT(table, HasSubstr("(no items)"));
}

TEST(FormatJsonTest, RoundTripsThroughProtoJson) {
  auto json = FormatJson(SampleResponse());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"modelVersion\""));
  EXPECT_THAT(*json, HasSubstr("\"fromFallback\":false"));
  affinity::v1::RecommendResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), SampleResponse().SerializeAsString());
}

TEST(GrpcErrorTest, MessageAndExitCodes) {
  const grpc::Status bad(grpc::StatusCode::INVALID_ARGUMENT, "k out of range");
  EXPECT_EQ(FormatRpcError(bad), "error: INVALID_ARGUMENT: k out of range");
  EXPECT_EQ(ExitCodeForRpc(bad), 2);
  EXPECT_EQ(ExitCodeForRpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "")), 2);
  const grpc::Status down(grpc::StatusCode::UNAVAILABLE, "connection refused");
  EXPECT_EQ(FormatRpcError(down), "error: UNAVAILABLE: connection refused");
  EXPECT_EQ(ExitCodeForRpc(down), 1);
  EXPECT_EQ(ExitCodeForRpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "")), 1);
  EXPECT_EQ(ExitCodeForRpc(grpc::Status::OK), 0);
}

}  // namespace
}  // namespace affinity::cli
