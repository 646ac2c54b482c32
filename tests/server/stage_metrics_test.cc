// Per-stage latency and scoring-pass metrics on the serving path (server
// wired as server/main.cc wires it): a Recommend with a known user and
// recent items moves the count of every stage it goes through (user
// lookup, fold-in, queue, scan, rules, serialize) by one, and adds one
// pass of one query to the batch-size histogram; a SimilarItems moves the
// stages it has (no user lookup, no fold-in); the re-rank stage is
// exported, at 0, with the exact scorer, and moves with --scorer=int8.
#include <chrono>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/serving_stack.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using server::testing::TestModel;

// The value of one exposition line "NAME VALUE" (-1 when absent).
double Series(const std::string& text, const std::string& name) {
  const size_t at = text.find(name + " ");
  if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return -1;
  return std::stod(text.substr(at + name.size() + 1));
}

double StageCount(const std::string& text, const char* stage) {
  return Series(text, std::string("affinity_stage_latency_seconds_count{stage=\"") + stage +
                          "\"}");
}

// The metrics once the serialize stage counted `n` calls: it is recorded
// after the response went out, so possibly after the client has it (gives
// up after 10 s, a hang, not a speed requirement).
std::string MetricsAfterSerialize(testing::ServingStack& stack, double n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text = stack.RenderMetrics();
  while (StageCount(text, "serialize") < n && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    text = stack.RenderMetrics();
  }
  return text;
}

TEST(StageMetricsTest, ARequestMovesEachStageItGoesThrough) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(server::testing::Publish(store->get(),
                                         server::testing::MakeImplicitModel(4, 30, 80, 8, 5))
                    .ok());
  }
  testing::ServingStackOptions options;
  options.max_batch = 32;
  options.instance = "";
  auto stack = testing::ServingStack::Start(dir, options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->models().Poll().ok());

  const char* kStages[] = {"user_lookup", "fold_in", "queue", "scan", "rerank", "rules",
                           "serialize"};
  std::string before = (*stack)->RenderMetrics();
  for (const char* stage : kStages) {
    EXPECT_EQ(StageCount(before, stage), 0) << stage << " in\n" << before;
  }
  EXPECT_EQ(Series(before, "affinity_scoring_batch_size_count"), 0);

  affinity::v1::RecommendRequest request;
  request.set_user_id(TestModel::UserId(2));
  request.set_k(5);
  auto* recent = request.add_recent();
  recent->set_item_id(TestModel::ItemId(7));
  recent->set_weight(2);
  affinity::v1::RecommendResponse response;
  const grpc::Status status = (*stack)->Recommend(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.items_size(), 5);

  const std::string after = MetricsAfterSerialize(**stack, 1);
  for (const char* stage : kStages) {
    EXPECT_EQ(StageCount(after, stage), std::string(stage) == "rerank" ? 0 : 1)
        << stage << " in\n" << after;
  }
  EXPECT_EQ(Series(after, "affinity_scoring_batch_size_count"), 1);
  EXPECT_EQ(Series(after, "affinity_scoring_batch_size_bucket{le=\"1\"}"), 1);
  EXPECT_EQ(Series(after, "affinity_scoring_pass_seconds_count"), 1);

  affinity::v1::SimilarItemsRequest similar;
  similar.set_item_id(TestModel::ItemId(3));
  similar.set_k(4);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  response.Clear();
  const grpc::Status similar_status = (*stack)->stub().SimilarItems(&context, similar, &response);
  ASSERT_TRUE(similar_status.ok()) << similar_status.error_message();
  const std::string last = MetricsAfterSerialize(**stack, 2);
  EXPECT_EQ(StageCount(last, "user_lookup"), 1);
  EXPECT_EQ(StageCount(last, "fold_in"), 1);
  for (const char* stage : {"queue", "scan", "rules", "serialize"}) {
    EXPECT_EQ(StageCount(last, stage), 2) << stage;
  }
  EXPECT_EQ(Series(last, "affinity_scoring_batch_size_count"), 2);
}

TEST(StageMetricsTest, TheInt8ScorerRecordsItsRerank) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(server::testing::Publish(store->get(),
                                         server::testing::MakeImplicitModel(4, 30, 80, 8, 5))
                    .ok());
  }
  testing::ServingStackOptions options;
  options.max_batch = 32;
  options.instance = "";
  options.scorer.kind = ScorerKind::kInt8;
  auto stack = testing::ServingStack::Start(dir, options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->models().Poll().ok());

  affinity::v1::RecommendRequest request;
  request.set_user_id(TestModel::UserId(2));
  request.set_k(5);
  affinity::v1::RecommendResponse response;
  const grpc::Status status = (*stack)->Recommend(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.items_size(), 5);
  const std::string after = MetricsAfterSerialize(**stack, 1);
  for (const char* stage : {"user_lookup", "queue", "scan", "rerank", "rules", "serialize"}) {
    EXPECT_EQ(StageCount(after, stage), 1) << stage << " in\n" << after;
  }
  EXPECT_EQ(StageCount(after, "fold_in"), 0);
}

}  // namespace
}  // namespace affinity::server
