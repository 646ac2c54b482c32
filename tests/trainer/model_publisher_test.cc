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
#include "server/scoring/ivf_index_io.h"
#include "server/scoring/ivf_scorer.h"
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

// A version published with an index: its reader, the one index header it
// holds, its item vectors (as the server holds them) and their SHA-256.
struct Published {
  std::unique_ptr<storage::ModelVersionReader> reader;
  affinity::v1::IndexHeader header;
  std::shared_ptr<const server::ItemMatrix> items;
  std::string sha;
};

// Publishes `model` into the new store `name` with `options`; fails the
// test (and returns what it has) when anything is missing or the index's
// header does not name the version's item vectors.
Published PublishWithIndex(const std::string& name, const RandomModel& model,
                           const PublishOptions& options) {
  Published out;
  absl::StatusOr<uint64_t> version =
      PublishModel(NewDir(name), model.Trained(), affinity::v1::ModelMetadata(), options);
  EXPECT_TRUE(version.ok()) << version.status();
  auto store = storage::ModelStore::Open(NewDir(name), storage::ModelStore::Mode::kFollower);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!version.ok() || !store.ok()) return out;
  auto reader = (*store)->OpenVersion(*version);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  out.reader = *std::move(reader);
  auto indexes = out.reader->ListIndexes();
  EXPECT_TRUE(indexes.ok()) << indexes.status();
  EXPECT_EQ(indexes.ok() ? indexes->size() : 0u, 1u);
  if (indexes.ok() && !indexes->empty()) out.header = (*indexes)[0];
  const size_t rows = static_cast<size_t>(model.items.rows());
  std::vector<float> dense(rows * 8);
  EXPECT_TRUE(out.reader->ReadItemFactors(absl::MakeSpan(dense)).ok());
  out.sha = storage::ItemVectorsSha256(dense);
  out.items = server::ItemMatrix::FromDense(dense, rows, 8);
  EXPECT_EQ(out.header.items(), static_cast<int64_t>(rows));
  EXPECT_EQ(out.header.dims(), 8);
  EXPECT_EQ(out.header.vectors_sha256(), out.sha);
  return out;
}

TEST(PublishModelTest, StoresTheHnswGraphWithTheVersion) {
  const RandomModel model(20, 400);
  PublishOptions options;
  options.build_index = "hnsw";
  options.index_threads = 1;
  const Published published = PublishWithIndex("with_index", model, options);
  ASSERT_NE(published.reader, nullptr);
  const affinity::v1::IndexHeader& header = published.header;
  EXPECT_EQ(header.kind(), "hnsw");
  EXPECT_EQ(header.params(), "M=16,ef_construction=200");

  // The server's loader takes it, and it ranks like an exact scan.
  const std::shared_ptr<const server::ItemMatrix>& items = published.items;
  server::ScorerOptions scorer_options;
  scorer_options.kind = server::ScorerKind::kHnsw;
  auto loaded = server::LoadHnswIndex(*published.reader, items, published.sha, scorer_options);
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

TEST(PublishModelTest, StoresTheIvfListsWithTheVersion) {
  const RandomModel model(20, 400);
  PublishOptions options;
  options.build_index = "ivf";
  const Published published = PublishWithIndex("with_lists", model, options);
  ASSERT_NE(published.reader, nullptr);
  const affinity::v1::IndexHeader& header = published.header;
  EXPECT_EQ(header.kind(), "ivf");
  EXPECT_EQ(header.params(), "lists=20,iterations=10,sample=64,seed=1");  // sqrt(400) lists

  // The server's loader takes them with its default options, and they are
  // the lists the server would train itself.
  const std::shared_ptr<const server::ItemMatrix>& items = published.items;
  server::ScorerOptions scorer_options;
  scorer_options.kind = server::ScorerKind::kIvf;
  auto loaded = server::LoadIvfIndex(*published.reader, items, published.sha, scorer_options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto trained = server::IvfScorer::Build(items, scorer_options);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_EQ((*loaded)->Assignment(), (*trained)->Assignment());
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
  EXPECT_THAT(status.message(), HasSubstr("--build_index: expected \"hnsw\", \"ivf\""));
  EXPECT_TRUE(absl::IsInvalidArgument(
      PublishModel(plain, model.Trained(), affinity::v1::ModelMetadata(), annoy).status()));
  auto store = storage::ModelStore::Open(plain, storage::ModelStore::Mode::kFollower);
  EXPECT_EQ((*store)->ListVersions()->size(), 1u);
}

}  // namespace
}  // namespace affinity
