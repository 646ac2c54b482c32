// A fold-in that fails on the serving path (a model whose normal equations
// are singular: regularization 0 and an item dimension that is always 0):
// the request is still answered, with the stored user vector or the
// most-popular fallback, and the failure is counted in
// affinity_fold_in_failures_total and logged.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using affinity::v1::RecommendRequest;
using affinity::v1::RecommendResponse;
using testing::TestModel;
using ::testing::HasSubstr;

TEST(FoldInFailureTest, AnsweredWithoutFoldInCountedAndLogged) {
  const std::string dir = storage::testing::MakeTestDir();
  TestModel model = testing::MakeImplicitModel(11, 20, 50, 4, 8);
  model.regularization = 0.0f;
  for (int i = 0; i < model.items; ++i) model.item_factors[size_t(i) * model.dims + 3] = 0.0f;
  {
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), model).ok());
  }
  auto stack = testing::ServingStack::Start(dir, {});
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->models().Poll().ok());

  ::testing::internal::CaptureStderr();
  // An unknown user with interactions: nothing to fall back on but the
  // most-popular list.
  RecommendRequest stranger;
  stranger.set_user_id("stranger");
  stranger.set_k(5);
  stranger.add_recent()->set_item_id(TestModel::ItemId(1));
  RecommendResponse answer;
  ASSERT_TRUE((*stack)->Recommend(stranger, &answer).ok());
  EXPECT_TRUE(answer.fallback());
  EXPECT_EQ(answer.items_size(), 5);

  // A known user: the stored vector.
  RecommendRequest known;
  known.set_user_id(TestModel::UserId(3));
  known.set_k(5);
  known.add_recent()->set_item_id(TestModel::ItemId(2));
  ASSERT_TRUE((*stack)->Recommend(known, &answer).ok());
  EXPECT_FALSE(answer.fallback());
  EXPECT_EQ(answer.items_size(), 5);
  const std::string log = ::testing::internal::GetCapturedStderr();

  const std::string metrics = (*stack)->RenderMetrics();
  EXPECT_THAT(metrics, HasSubstr("\naffinity_fold_in_failures_total 2\n"));
  EXPECT_THAT(metrics, HasSubstr("\naffinity_fold_ins_total 0\n"));
  EXPECT_THAT(log, HasSubstr("fold-in failed for model version 1 (1 so far): fold-in: normal "
                             "equations are not positive definite"));
  EXPECT_THAT(log, HasSubstr("(2 so far)"));
}

}  // namespace
}  // namespace affinity::server
