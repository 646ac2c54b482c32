// What the trainer checks before its work so that publishing cannot fail
// at the end: the model's size against the store's index limit; and the
// HNSW graph it builds and stores with the version when asked.
#include "trainer/model_publisher.h"

#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/item_matrix.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

TEST(CheckModelSizeTest, AllowsUpToTwoToTheThirtyOneUsersAndItems) {
  constexpr int64_t kLimit = int64_t{1} << 31;
  ASSERT_EQ(storage::kMaxIdsPerVersion, kLimit);
  EXPECT_TRUE(CheckModelSize(1, 1).ok());
  EXPECT_TRUE(CheckModelSize(kLimit, kLimit).ok());

  absl::Status users = CheckModelSize(kLimit + 1, 10);
  EXPECT_TRUE(absl::IsInvalidArgument(users)) << users;
  EXPECT_EQ(users.message(),
            "2147483649 distinct user ids, expected at most 2147483648 (2^31) per model version");
  absl::Status items = CheckModelSize(10, int64_t{3} << 31);
  EXPECT_THAT(items.message(), HasSubstr("6442450944 distinct item ids, expected at most "
                                         "2147483648 (2^31)"));
}

// A random model of `users` x `items` with 8 factors.
struct RandomModel {
  std::vector<std::string> user_ids, item_ids;
  FactorMatrix users, items;
  RandomModel(int n_users, int n_items) : users(n_users, 8), items(n_items, 8) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int u = 0; u < n_users; ++u) user_ids.push_back(absl::StrCat("u", u));
    for (int i = 0; i < n_items; ++i) item_ids.push_back(absl::StrCat("i", i));
    for (int u = 0; u < n_users; ++u)
      for (int f = 0; f < 8; ++f) users(u, f) = normal(rng);
    for (int i = 0; i < n_items; ++i)
      for (int f = 0; f < 8; ++f) items(i, f) = normal(rng);
  }
  TrainedModel Trained() const {
    TrainedModel m;
    m.user_ids = &user_ids;
    m.item_ids = &item_ids;
    m.users = &users;
    m.items = &items;
    return m;
  }
};

std::string NewDir(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

TEST(PublishModelTest, StoresTheHnswGraphWithTheVersion) {
  const std::string dir = NewDir("with_index");
  const RandomModel model(20, 400);
  PublishOptions options;
  options.build_index = "hnsw";
  options.index_threads = 1;
  absl::StatusOr<uint64_t> version =
      PublishModel(dir, model.Trained(), affinity::v1::ModelMetadata(), options);
  ASSERT_TRUE(version.ok()) << version.status();

  auto store = storage::ModelStore::Open(dir, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto reader = (*store)->OpenVersion(*version);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto indexes = (*reader)->ListIndexes();
  ASSERT_TRUE(indexes.ok()) << indexes.status();
  ASSERT_EQ(indexes->size(), 1u);
  const affinity::v1::IndexHeader& header = (*indexes)[0];
  EXPECT_EQ(header.kind(), "hnsw");
  EXPECT_EQ(header.params(), "M=16,ef_construction=200");
  EXPECT_EQ(header.items(), 400);
  EXPECT_EQ(header.dims(), 8);
  std::vector<float> dense(400 * 8);
  ASSERT_TRUE((*reader)->ReadItemFactors(absl::MakeSpan(dense)).ok());
  const std::string sha = storage::ItemVectorsSha256(dense);
  EXPECT_EQ(header.vectors_sha256(), sha);

  // The server's loader takes it, and it ranks like an exact scan.
  std::shared_ptr<const server::ItemMatrix> items =
      server::ItemMatrix::FromDense(dense, 400, 8);
  server::ScorerOptions scorer_options;
  scorer_options.kind = server::ScorerKind::kHnsw;
  auto loaded = server::LoadHnswIndex(**reader, items, sha, scorer_options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  server::ExactScorer exact(items);
  size_t agree = 0;
  for (int q = 0; q < 20; ++q) {
    server::ScoringQuery query;
    query.vector = absl::MakeConstSpan(model.users.row(q).data(), 8);
    query.k = 10;
    std::set<uint32_t> want;
    for (const auto& s : exact.TopK(query).items) want.insert(s.index);
    for (const auto& s : (*loaded)->TopK(query).items) agree += want.count(s.index);
  }
  EXPECT_GE(agree, 190u);  // recall@10 >= 0.95 on 400 items with ef 200
}

TEST(PublishModelTest, PublishesNoIndexUnlessAskedAndRefusesUnknownKinds) {
  const RandomModel model(5, 50);
  const std::string plain = NewDir("plain");
  ASSERT_TRUE(PublishModel(plain, model.Trained(), affinity::v1::ModelMetadata()).ok());
  {
    auto store = storage::ModelStore::Open(plain, storage::ModelStore::Mode::kFollower);
    EXPECT_TRUE((*(*store)->OpenVersion(1))->ListIndexes()->empty());
  }
  PublishOptions annoy;
  annoy.build_index = "annoy";
  absl::Status status = CheckBuildIndex("annoy");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("--build_index: expected \"hnsw\""));
  EXPECT_TRUE(absl::IsInvalidArgument(
      PublishModel(plain, model.Trained(), affinity::v1::ModelMetadata(), annoy).status()));
  auto store = storage::ModelStore::Open(plain, storage::ModelStore::Mode::kFollower);
  EXPECT_EQ((*store)->ListVersions()->size(), 1u);
}

}  // namespace
}  // namespace affinity
