// A serving replica fed by shipping: a version exported from a primary store
// and imported into another is served by the affinity-server binary from the
// second store, and its answers are those of the primary's vectors.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "storage/version_transfer.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;
using testing::LoggedPort;
using testing::Spawn;
using testing::TmpDir;
using testing::WaitExit;
using testing::WaitForLog;

struct Scored {
  std::string item_id;
  double score = 0;
};

// Every unseen item of `user_id` scored by version `version` of the store
// at `db`, best first.
std::vector<Scored> ScoresFromStore(const std::string& db, uint64_t version,
                                    const std::string& user_id) {
  std::vector<Scored> scored;
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return scored;
  auto reader = (*store)->OpenVersion(version);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return scored;
  const int dims = (*reader)->metadata().dims();
  const std::vector<std::string>& ids = (*reader)->item_ids();
  std::vector<float> items(ids.size() * dims);
  EXPECT_TRUE((*reader)->ReadItemFactors(absl::MakeSpan(items)).ok());
  absl::StatusOr<storage::UserRecord> user = (*reader)->GetUser(user_id);
  EXPECT_TRUE(user.ok()) << user.status();
  if (!user.ok()) return scored;
  for (uint32_t i = 0; i < ids.size(); ++i) {
    if (std::binary_search(user->seen.begin(), user->seen.end(), i)) continue;
    double score = 0;
    for (int d = 0; d < dims; ++d) score += double{user->factors[d]} * items[size_t{i} * dims + d];
    scored.push_back({ids[i], score});
  }
  std::sort(scored.begin(), scored.end(),
            [](const Scored& a, const Scored& b) { return a.score > b.score; });
  return scored;
}

TEST(ReplicaBinaryTest, ServesAVersionShippedFromAnotherStore) {
  const std::string primary = TmpDir() + "/primary";
  const std::string replica = TmpDir() + "/replica";
  const std::string shipped = TmpDir() + "/shipped";
  {
    auto store = storage::ModelStore::Open(primary, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(4, 20, 80, 8, 10)).ok());
    auto second = testing::Publish(store->get(), testing::MakeImplicitModel(5, 30, 150, 8, 10));
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(*second, 2u);
  }
  absl::StatusOr<storage::VersionTransfer> exported =
      storage::ExportVersion(primary, 2, shipped);
  ASSERT_TRUE(exported.ok()) << exported.status();
  absl::StatusOr<storage::VersionTransfer> imported = storage::ImportVersion(shipped, replica);
  ASSERT_TRUE(imported.ok()) << imported.status();

  const std::string log = TmpDir() + "/replica-server.log";
  const pid_t pid = Spawn({kServerBinary, "--db=" + replica, "--listen=127.0.0.1:0",
                           "--metrics_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                           "--poll_ms=100"},
                          log);
  const std::string text = WaitForLog(log, "routing (rollout revision");
  ASSERT_NE(text.find("model loaded: version 2"), std::string::npos) << text;
  EXPECT_NE(text.find("users 30, items 150, dims 8"), std::string::npos) << text;
  const std::optional<int> port = LoggedPort(text, "started: grpc");
  ASSERT_TRUE(port.has_value()) << text;
  auto stub = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));

  for (uint32_t u : {0u, 7u, 29u}) {
    const std::string user_id = testing::TestModel::UserId(u);
    const std::vector<Scored> expected = ScoresFromStore(primary, 2, user_id);
    ASSERT_GE(expected.size(), 10u);
    affinity::v1::RecommendRequest request;
    request.set_user_id(user_id);
    request.set_k(10);
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->Recommend(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model_version(), 2u);
    EXPECT_FALSE(response.fallback());
    ASSERT_EQ(response.items_size(), 10);
    for (int r = 0; r < 10; ++r) {
      const auto& item = response.items(r);
      const double tolerance = 1e-4 * std::max(1.0, std::fabs(expected[r].score));
      // The r-th best score of the primary's vectors, and the item's own
      // score (an exact tie may order two items either way).
      EXPECT_NEAR(item.score(), expected[r].score, tolerance) << user_id << " rank " << r;
      auto own = std::find_if(expected.begin(), expected.end(),
                              [&](const Scored& s) { return s.item_id == item.item_id(); });
      ASSERT_NE(own, expected.end()) << item.item_id() << " is seen or unknown";
      EXPECT_NEAR(own->score, expected[r].score, tolerance) << user_id << " rank " << r;
    }
  }

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0);
}

}  // namespace
}  // namespace affinity::server
