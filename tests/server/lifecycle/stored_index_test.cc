// The HNSW graph and the IVF lists as part of the model version, through
// the server's load path (LoadModel, StoreBuiltIndex): a version without
// one builds it at load and the server stores it; the next load takes the
// stored index instead and answers as the built one did; an index of other
// vectors, damaged lists or other build parameters are not used (index_note
// says why), and a refused index is rebuilt and replaced.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/lifecycle/built_index_store.h"
#include "server/lifecycle/loaded_model.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/ivf_index_io.h"
#include "server/scoring/ivf_scorer.h"
#include "storage/model_store.h"
#include "tests/server/test_model.h"
#include "tests/storage/test_dir.h"

namespace affinity::server {
namespace {

using storage::ModelStore;
using ::testing::HasSubstr;

ScorerOptions Hnsw() {
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  options.hnsw_m = 8;
  options.hnsw_ef_construction = 50;
  return options;
}

// A store with versions 1 and 2 (different vectors, the same shape).
std::string TwoVersions() {
  const std::string dir = storage::testing::MakeTestDir();
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  for (uint32_t version : {1u, 2u}) {
    EXPECT_EQ(testing::Publish(store->get(), testing::MakeImplicitModel(version, 30, 300, 8, 5))
                  .value_or(0),
              version);
  }
  return dir;
}

ScorerOptions Ivf(size_t lists = 12) {
  ScorerOptions options;
  options.kind = ScorerKind::kIvf;
  options.ivf_lists = lists;
  options.ivf_probes = 3;
  return options;
}

std::shared_ptr<const LoadedModel> Load(const std::string& dir, uint64_t version,
                                        const ScorerOptions& options = Hnsw()) {
  auto store = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  auto reader = (*store)->OpenVersion(version);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return nullptr;
  auto model = LoadModel(*std::move(reader), options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::vector<ScoredIndex> Top(const LoadedModel& model, int user) {
  std::vector<float> query(model.items->dims());
  for (size_t d = 0; d < query.size(); ++d) query[d] = model.items->row(user * 7)[d] + 0.01f * d;
  ScoringQuery q;
  q.vector = query;
  q.k = 10;
  return model.scorer->TopK(q).items;
}

TEST(StoredIndexTest, BuiltOnceThenLoaded) {
  const std::string dir = TwoVersions();
  std::shared_ptr<const LoadedModel> built = Load(dir, 1);
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built->index_source, "built");
  EXPECT_EQ(built->index_note, kNoStoredIndex);
  EXPECT_EQ(built->vectors_sha256.size(), 32u);

  auto stored = StoreBuiltIndex(dir, *built, 0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->params(), "M=8,ef_construction=50");
  EXPECT_EQ(stored->vectors_sha256(), built->vectors_sha256);
  // Stored already: a second server that also built it writes nothing.
  EXPECT_TRUE(absl::IsAlreadyExists(StoreBuiltIndex(dir, *built, 0).status()));

  std::shared_ptr<const LoadedModel> loaded = Load(dir, 1);
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->index_source, "loaded");
  EXPECT_EQ(loaded->index_note, "");
  EXPECT_STREQ(loaded->scorer->name(), "hnsw");
  for (int user = 0; user < 20; ++user) {
    const std::vector<ScoredIndex> a = Top(*built, user);
    const std::vector<ScoredIndex> b = Top(*loaded, user);
    ASSERT_EQ(a.size(), 10u);
    ASSERT_EQ(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(b[i].index, a[i].index) << user << " " << i;
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(StoreBuiltIndex(dir, *loaded, 0).status()));
  // Another version's load is not affected.
  EXPECT_EQ(Load(dir, 2)->index_source, "built");
}

TEST(StoredIndexTest, AGraphOfOtherVectorsIsRefusedRebuiltAndReplaced) {
  const std::string dir = TwoVersions();
  std::shared_ptr<const LoadedModel> one = Load(dir, 1);
  std::shared_ptr<const LoadedModel> two = Load(dir, 2);
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  const auto& graph = dynamic_cast<const HnswScorer&>(*one->scorer);
  {
    // Version 1's graph under version 2, its header claiming version 2's
    // vectors: only the stored vectors themselves tell.
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    auto writer = (*store)->CreateIndexWriter(
        2, HnswIndexHeader(Hnsw(), *two->items, two->vectors_sha256, 1.0));
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE(WriteHnswIndex(graph, **writer).ok());
  }
  std::shared_ptr<const LoadedModel> refused = Load(dir, 2);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->index_source, "built");
  EXPECT_THAT(refused->index_note, HasSubstr("built from other vectors"));
  {
    // Version 1's graph with its own header: the SHA-256 differs.
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    auto writer = (*store)->CreateIndexWriter(
        2, HnswIndexHeader(Hnsw(), *one->items, one->vectors_sha256, 1.0));
    ASSERT_TRUE(WriteHnswIndex(graph, **writer).ok());
  }
  refused = Load(dir, 2);
  EXPECT_EQ(refused->index_source, "built");
  EXPECT_THAT(refused->index_note, HasSubstr("built from item vectors with SHA-256"));

  // The server replaces the refused graph with the one it built.
  auto stored = StoreBuiltIndex(dir, *refused, 0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(Load(dir, 2)->index_source, "loaded");
}

TEST(StoredIndexTest, OtherGraphParametersAreAnotherIndex) {
  const std::string dir = TwoVersions();
  ASSERT_TRUE(StoreBuiltIndex(dir, *Load(dir, 1), 0).ok());
  auto store = ModelStore::Open(dir, ModelStore::Mode::kFollower);
  ScorerOptions m16 = Hnsw();
  m16.hnsw_m = 16;
  auto model = LoadModel(*(*store)->OpenVersion(1), m16);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->index_source, "built");
  EXPECT_EQ((*model)->index_note, kNoStoredIndex);
}

const IvfScorer& IvfOf(const LoadedModel& model) {
  return dynamic_cast<const IvfScorer&>(*model.scorer);
}

// The header of `model`'s IVF lists.
affinity::v1::IndexHeader HeaderOf(const LoadedModel& model) {
  const IvfScorer& ivf = IvfOf(model);
  return IvfIndexHeader(ivf.lists(), ivf.items(), ivf.centroids().dims(), model.vectors_sha256,
                        1.0);
}

// Writes `bytes` as version `version`'s IVF lists under `header`.
void StoreBlob(const std::string& dir, uint64_t version, const affinity::v1::IndexHeader& header,
               const std::string& bytes) {
  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  auto writer = (*store)->CreateIndexWriter(version, header);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append(bytes).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
}

// The blob WriteIvfIndex writes for `scorer`, with `assignment` instead of
// its own.
std::string Blob(const IvfScorer& scorer, const std::vector<uint32_t>& assignment) {
  std::string bytes;
  const ItemMatrix& centroids = scorer.centroids();
  for (size_t l = 0; l < centroids.rows(); ++l) {
    bytes.append(reinterpret_cast<const char*>(centroids.row(l)),
                 centroids.dims() * sizeof(float));
  }
  bytes.append(reinterpret_cast<const char*>(assignment.data()),
               assignment.size() * sizeof(uint32_t));
  return bytes;
}

TEST(StoredIndexTest, IvfListsTrainedOnceThenLoaded) {
  const std::string dir = TwoVersions();
  std::shared_ptr<const LoadedModel> built = Load(dir, 1, Ivf());
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built->index_source, "built");
  EXPECT_EQ(built->index_note, kNoStoredIndex);
  EXPECT_EQ(built->vectors_sha256.size(), 32u);

  auto stored = StoreBuiltIndex(dir, *built, 0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->kind(), "ivf");
  EXPECT_EQ(stored->params(), "lists=12,iterations=10,sample=64,seed=1");
  EXPECT_EQ(stored->format(), kIvfFormat);
  EXPECT_EQ(stored->blob_bytes(), (12u * 8u + 300u) * 4u);
  EXPECT_EQ(stored->vectors_sha256(), built->vectors_sha256);
  // Stored already: a second server that also trained them writes nothing.
  EXPECT_TRUE(absl::IsAlreadyExists(StoreBuiltIndex(dir, *built, 0).status()));

  std::shared_ptr<const LoadedModel> loaded = Load(dir, 1, Ivf());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->index_source, "loaded");
  EXPECT_EQ(loaded->index_note, "");
  EXPECT_STREQ(loaded->scorer->name(), "ivf");
  EXPECT_EQ(IvfOf(*loaded).Assignment(), IvfOf(*built).Assignment());
  for (size_t l = 0; l < IvfOf(*built).lists(); ++l) {
    EXPECT_EQ(std::memcmp(IvfOf(*loaded).centroids().row(l), IvfOf(*built).centroids().row(l),
                          8 * sizeof(float)),
              0)
        << l;
  }
  for (int user = 0; user < 20; ++user) {
    const std::vector<ScoredIndex> a = Top(*built, user);
    const std::vector<ScoredIndex> b = Top(*loaded, user);
    ASSERT_EQ(a.size(), 10u);
    ASSERT_EQ(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].index, a[i].index) << user << " " << i;
      EXPECT_EQ(b[i].score, a[i].score) << user << " " << i;
    }
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(StoreBuiltIndex(dir, *loaded, 0).status()));
  // Another version's load is not affected.
  EXPECT_EQ(Load(dir, 2, Ivf())->index_source, "built");
}

TEST(StoredIndexTest, IvfListsOfOtherVectorsAreRefusedRetrainedAndReplaced) {
  const std::string dir = TwoVersions();
  std::shared_ptr<const LoadedModel> one = Load(dir, 1, Ivf());
  ASSERT_NE(one, nullptr);
  {
    // Version 1's lists under version 2, with their own header.
    auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    auto writer =
        (*store)->CreateIndexWriter(2, HeaderOf(*one));
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE(
        WriteIvfIndex(IvfOf(*one).centroids(), IvfOf(*one).Assignment(), **writer).ok());
  }
  std::shared_ptr<const LoadedModel> refused = Load(dir, 2, Ivf());
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->index_source, "built");
  EXPECT_THAT(refused->index_note, HasSubstr("built from item vectors with SHA-256"));

  // The server replaces the refused lists with the ones it trained.
  auto stored = StoreBuiltIndex(dir, *refused, 0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(Load(dir, 2, Ivf())->index_source, "loaded");
}

TEST(StoredIndexTest, IvfDamagedListsAreRefused) {
  const std::string dir = TwoVersions();
  std::shared_ptr<const LoadedModel> one = Load(dir, 1, Ivf());
  ASSERT_NE(one, nullptr);
  const affinity::v1::IndexHeader header = HeaderOf(*one);
  std::vector<uint32_t> assignment = IvfOf(*one).Assignment();

  // An item in a list that does not exist.
  assignment[17] = 12;
  StoreBlob(dir, 1, header, Blob(IvfOf(*one), assignment));
  std::shared_ptr<const LoadedModel> refused = Load(dir, 1, Ivf());
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->index_source, "built");
  EXPECT_THAT(refused->index_note, HasSubstr("item 17 in list 12 of 12"));

  // One item short.
  assignment.pop_back();
  StoreBlob(dir, 1, header, Blob(IvfOf(*one), assignment));
  refused = Load(dir, 1, Ivf());
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->index_source, "built");
  EXPECT_THAT(refused->index_note, HasSubstr("1580 bytes, expected 1584"));
  // The trained lists answer all the same.
  EXPECT_EQ(Top(*refused, 3).size(), 10u);
}

TEST(StoredIndexTest, IvfAnotherListCountIsAnotherIndex) {
  const std::string dir = TwoVersions();
  ASSERT_TRUE(StoreBuiltIndex(dir, *Load(dir, 1, Ivf()), 0).ok());
  std::shared_ptr<const LoadedModel> other = Load(dir, 1, Ivf(20));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->index_source, "built");
  EXPECT_EQ(other->index_note, kNoStoredIndex);
  EXPECT_EQ(IvfOf(*other).lists(), 20u);
  // Probes are a search setting: the same lists serve any count.
  ScorerOptions more_probes = Ivf();
  more_probes.ivf_probes = 6;
  EXPECT_EQ(Load(dir, 1, more_probes)->index_source, "loaded");
}

}  // namespace
}  // namespace affinity::server
