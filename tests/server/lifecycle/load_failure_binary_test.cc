// The affinity-server binary when the version it should switch to cannot be
// loaded (stored metadata claiming 2^40 items): the failure is logged once,
// the server keeps answering with the version it served, and it still shuts
// down cleanly on SIGTERM.
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/rollout/server_child.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using server::testing::ServerChild;
using server::testing::TestModel;
using storage::ModelStore;
using ::testing::HasSubstr;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(LoadFailureBinaryTest, HugeItemCountIsLoggedOnceAndTheServingVersionKeepsAnswering) {
  const std::string dir = storage::testing::MakeTestDir();
  {
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint32_t seed = 1; seed <= 2; ++seed) {
      ASSERT_EQ(server::testing::Publish(store->get(),
                                         server::testing::MakeImplicitModel(seed, 30, 20, 8, 5))
                    .value_or(0),
                seed);
    }
    ASSERT_TRUE((*store)->SetLiveVersion(1).ok());
  }
  storage::testing::EditStoredMetadata(
      dir, 2, [](affinity::v1::ModelMetadata& m) { m.set_items(int64_t{1} << 40); });
  auto server = ServerChild::Start(dir, "loadfail", {"--poll_ms=20"});
  ASSERT_TRUE(server.ok()) << server.status();

  affinity::v1::RecommendRequest request;
  request.set_user_id(TestModel::UserId(3));
  request.set_k(5);
  affinity::v1::RecommendResponse response;
  ASSERT_TRUE((*server)->Recommend(request, &response).ok());
  EXPECT_EQ(response.model_version(), 1u);

  {
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->SetLiveVersion(std::nullopt).ok());
  }
  std::string log = testing::WaitForLog((*server)->log(), "model version 2 failed to load");
  ASSERT_THAT(log, HasSubstr("model version 2 failed to load: DATA_LOSS"));
  // Polls continue every 20 ms; the failure is not reported again.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  response.Clear();
  const grpc::Status served = (*server)->Recommend(request, &response);
  ASSERT_TRUE(served.ok()) << served.error_message() << "\n" << testing::ReadFile((*server)->log());
  EXPECT_EQ(response.model_version(), 1u);
  EXPECT_EQ(response.items_size(), 5);
  EXPECT_EQ((*server)->Stop(SIGTERM), 0);
  log = testing::ReadFile((*server)->log());
  // The failure listener's line, and the poll listener's when the poll
  // outcome changed.
  EXPECT_EQ(Count(log, "affinity-server: model version 2 failed to load"), 1) << log;
  EXPECT_EQ(Count(log, "affinity-server: model poll failed"), 1) << log;
  EXPECT_THAT(log, HasSubstr("1099511627776 items"));
}

}  // namespace
}  // namespace affinity::server
