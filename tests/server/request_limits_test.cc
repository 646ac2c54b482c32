// Every request field a client can make large has a limit: one over it is
// INVALID_ARGUMENT naming the field and the limit, one at it passes.
#include <string>

#include "gtest/gtest.h"
#include "server/rpc/admin_validation.h"
#include "server/rpc/request_validation.h"

namespace affinity::server {
namespace {

RequestLimits SmallLimits() {
  RequestLimits limits;
  limits.max_k = 10;
  limits.max_recent = 3;
  limits.max_excludes = 4;
  limits.max_id_bytes = 8;
  limits.max_outcomes = 2;
  limits.max_filters = 2;
  limits.max_filter_values = 3;
  return limits;
}

void ExpectRefused(const absl::Status& status, const std::string& message) {
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(status.message(), message);
}

affinity::v1::RecommendRequest Recommend() {
  affinity::v1::RecommendRequest request;
  request.set_user_id("u");
  request.set_k(5);
  return request;
}

class RecommendLimitsTest : public ::testing::Test {
 protected:
  absl::Status Check(const affinity::v1::RecommendRequest& request) {
    return ValidateRecommendRequest(request, limits_, rule_sets_);
  }
  RequestLimits limits_ = SmallLimits();
  RuleSetRegistry rule_sets_;
};

TEST_F(RecommendLimitsTest, RecentEntries) {
  auto request = Recommend();
  for (int i = 0; i < 3; ++i) request.add_recent()->set_item_id("i");
  EXPECT_TRUE(Check(request).ok());
  request.add_recent()->set_item_id("i");
  ExpectRefused(Check(request), "recent: at most 3 entries, got 4");
}

TEST_F(RecommendLimitsTest, ExcludedItems) {
  auto request = Recommend();
  for (int i = 0; i < 4; ++i) request.add_exclude_item_ids("i");
  EXPECT_TRUE(Check(request).ok());
  request.add_exclude_item_ids("i");
  ExpectRefused(Check(request), "exclude_item_ids: at most 4 entries, got 5");
}

TEST_F(RecommendLimitsTest, IdsAndNames) {
  auto request = Recommend();
  request.set_user_id("12345678");
  request.set_session_id("12345678");
  EXPECT_TRUE(Check(request).ok());
  request.set_user_id("123456789");
  ExpectRefused(Check(request), "user_id: at most 8 bytes, got 9");
  request = Recommend();
  request.set_session_id("123456789");
  ExpectRefused(Check(request), "session_id: at most 8 bytes, got 9");
  request = Recommend();
  request.add_recent()->set_item_id("123456789");
  ExpectRefused(Check(request), "recent[0].item_id: at most 8 bytes, got 9");
  request = Recommend();
  request.add_exclude_item_ids("a");
  request.add_exclude_item_ids("123456789");
  ExpectRefused(Check(request), "exclude_item_ids[1]: at most 8 bytes, got 9");
  request = Recommend();
  request.set_rule_set(std::string(100000, 'r'));
  ExpectRefused(Check(request), "rule_set: at most 8 bytes, got 100000");
}

TEST_F(RecommendLimitsTest, Filters) {
  auto request = Recommend();
  for (int i = 0; i < 2; ++i) {
    affinity::v1::Filter* f = request.add_filters();
    f->set_attribute("brand");
    f->add_any_of("a");
    f->add_any_of("b");
    f->add_none_of("c");
  }
  EXPECT_TRUE(Check(request).ok());
  request.mutable_filters(1)->add_none_of("d");
  ExpectRefused(Check(request), "filters[1]: 4 any_of/none_of values, at most 3");
  request.mutable_filters(1)->mutable_none_of()->RemoveLast();
  request.add_filters()->set_attribute("brand");
  ExpectRefused(Check(request), "filters: 3 given, at most 2");
  request.mutable_filters()->RemoveLast();
  request.mutable_filters(0)->set_attribute("123456789");
  ExpectRefused(Check(request), "filters[0].attribute: at most 8 bytes, got 9");
  request.mutable_filters(0)->set_attribute("brand");
  request.mutable_filters(1)->set_any_of(1, "123456789");
  ExpectRefused(Check(request), "filters[1].any_of[1]: at most 8 bytes, got 9");
  request.mutable_filters(1)->set_any_of(1, "b");
  request.mutable_filters(1)->set_none_of(0, "123456789");
  ExpectRefused(Check(request), "filters[1].none_of[0]: at most 8 bytes, got 9");
  request.mutable_filters(1)->set_none_of(0, "c");
  request.mutable_filters(0)->set_newer_than("2020-01-01T00:00:00Z");
  ExpectRefused(Check(request), "filters[0].newer_than: at most 8 bytes, got 20");
  request.mutable_filters(0)->clear_newer_than();
  request.mutable_filters(0)->set_older_than("2020-01-01T00:00:00Z");
  ExpectRefused(Check(request), "filters[0].older_than: at most 8 bytes, got 20");
}

TEST_F(RecommendLimitsTest, SimilarItems) {
  affinity::v1::SimilarItemsRequest request;
  request.set_item_id("i");
  request.set_k(5);
  for (int i = 0; i < 4; ++i) request.add_exclude_item_ids("i");
  EXPECT_TRUE(ValidateSimilarItemsRequest(request, limits_, rule_sets_).ok());
  request.add_exclude_item_ids("i");
  ExpectRefused(ValidateSimilarItemsRequest(request, limits_, rule_sets_),
                "exclude_item_ids: at most 4 entries, got 5");
  request.mutable_exclude_item_ids()->RemoveLast();
  request.set_item_id("123456789");
  ExpectRefused(ValidateSimilarItemsRequest(request, limits_, rule_sets_),
                "item_id: at most 8 bytes, got 9");
  request.set_item_id("i");
  for (int i = 0; i < 3; ++i) request.add_filters()->set_attribute("brand");
  ExpectRefused(ValidateSimilarItemsRequest(request, limits_, rule_sets_),
                "filters: 3 given, at most 2");
  request.clear_filters();
  request.set_rule_set("123456789");
  ExpectRefused(ValidateSimilarItemsRequest(request, limits_, rule_sets_),
                "rule_set: at most 8 bytes, got 9");
}

TEST(OutcomeLimitsTest, OutcomesAndTheirIds) {
  const RequestLimits limits = SmallLimits();
  affinity::v1::ReportOutcomeRequest request;
  for (int i = 0; i < 2; ++i) {
    affinity::v1::OutcomeReport* o = request.add_outcomes();
    o->set_request_id("r");
    o->set_item_id("i");
    o->set_event(affinity::v1::CLICK);
  }
  EXPECT_TRUE(ValidateOutcomeRequest(request, limits).ok());
  *request.add_outcomes() = request.outcomes(0);
  ExpectRefused(ValidateOutcomeRequest(request, limits), "outcomes: at most 2 per call, got 3");
  request.mutable_outcomes()->RemoveLast();
  request.mutable_outcomes(1)->set_user_id("123456789");
  ExpectRefused(ValidateOutcomeRequest(request, limits),
                "outcomes[1].user_id: at most 8 bytes, got 9");
  request.mutable_outcomes(1)->clear_user_id();
  request.mutable_outcomes(1)->set_request_id("123456789");
  ExpectRefused(ValidateOutcomeRequest(request, limits),
                "outcomes[1].request_id: at most 8 bytes, got 9");
  request.mutable_outcomes(1)->set_request_id("r");
  request.mutable_outcomes(1)->set_session_id("123456789");
  ExpectRefused(ValidateOutcomeRequest(request, limits),
                "outcomes[1].session_id: at most 8 bytes, got 9");
  request.mutable_outcomes(1)->clear_session_id();
  request.mutable_outcomes(0)->set_item_id("123456789");
  ExpectRefused(ValidateOutcomeRequest(request, limits),
                "outcomes[0].item_id: at most 8 bytes, got 9");
}

AdminLimits SmallAdminLimits() {
  AdminLimits limits;
  limits.max_items = 2;
  limits.max_id_bytes = 8;
  limits.max_item_bytes = 64;
  return limits;
}

TEST(AdminLimitsTest, UpsertItems) {
  const AdminLimits limits = SmallAdminLimits();
  affinity::v1::UpsertItemsRequest request;
  request.add_items()->set_item_id("a");
  request.add_items()->set_item_id("12345678");
  EXPECT_TRUE(ValidateUpsertItems(request, limits).ok());
  request.add_items()->set_item_id("c");
  ExpectRefused(ValidateUpsertItems(request, limits), "items: at most 2 per call, got 3");
  request.mutable_items()->RemoveLast();
  request.mutable_items(1)->set_item_id("123456789");
  ExpectRefused(ValidateUpsertItems(request, limits), "items[1].item_id: at most 8 bytes, got 9");
  request.mutable_items(1)->set_item_id("b");
  request.mutable_items(0)->set_title(std::string(60, 't'));
  ExpectRefused(ValidateUpsertItems(request, limits),
                "items[0]: at most 64 bytes serialized, got 65");
  request.mutable_items(0)->set_title(std::string(59, 't'));
  EXPECT_TRUE(ValidateUpsertItems(request, limits).ok());
  request.mutable_items(1)->add_tags(std::string(70, 'x'));
  ExpectRefused(ValidateUpsertItems(request, limits),
                "items[1]: at most 64 bytes serialized, got 75");
}

TEST(AdminLimitsTest, DeleteItems) {
  const AdminLimits limits = SmallAdminLimits();
  affinity::v1::DeleteItemsRequest request;
  request.add_item_ids("a");
  request.add_item_ids("12345678");
  EXPECT_TRUE(ValidateDeleteItems(request, limits).ok());
  request.add_item_ids("c");
  ExpectRefused(ValidateDeleteItems(request, limits), "item_ids: at most 2 per call, got 3");
  request.mutable_item_ids()->RemoveLast();
  request.set_item_ids(0, "123456789");
  ExpectRefused(ValidateDeleteItems(request, limits), "item_ids[0]: at most 8 bytes, got 9");
}

}  // namespace
}  // namespace affinity::server
