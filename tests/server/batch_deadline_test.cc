// Request deadlines reach the micro-batcher on the serving path (server
// wired as server/main.cc wires it, with --batch_window_us far longer than
// the call may take): a Recommend whose deadline passes while its batch is
// gathered is answered DEADLINE_EXCEEDED by the server at its deadline, not
// when the window ends.
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

TEST(BatchDeadlineTest, DeadlinePassingWhileTheBatchIsGatheredEndsTheCall) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(server::testing::Publish(store->get(),
                                         server::testing::MakeImplicitModel(1, 30, 50, 8, 5))
                    .ok());
  }
  testing::ServingStackOptions options;
  options.max_batch = 32;
  options.batch_window = std::chrono::seconds(60);
  auto stack = testing::ServingStack::Start(dir, options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->models().Poll().ok());

  affinity::v1::RecommendRequest request;
  request.set_user_id(TestModel::UserId(2));
  request.set_k(5);
  affinity::v1::RecommendResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  EXPECT_EQ((*stack)->stub().Recommend(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);

  // The client gives up at its deadline whatever the server does; the
  // server's own count says when its handler returned, and with what.
  const std::string counted =
      "affinity_requests_total{method=\"Recommend\",code=\"DEADLINE_EXCEEDED\"} 1\n";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*stack)->RenderMetrics().find(counted) == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE((*stack)->RenderMetrics().find(counted), std::string::npos)
      << "no Recommend answered DEADLINE_EXCEEDED by the server: its handler still waits "
         "for the batch window";
}

}  // namespace
}  // namespace affinity::server
