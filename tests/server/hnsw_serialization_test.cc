// HNSW graphs saved as blobs and loaded back: the bytes are hnswlib's own
// saveIndex layout, a loaded scorer answers exactly as the one that was
// built, and a blob that does not belong to the items or parameters, or is
// damaged, is refused with an error instead of being searched.
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/hnsw_serialization.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const ItemMatrix> RandomItems(uint32_t seed, size_t rows, size_t dims) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> dense(rows * dims);
  for (float& x : dense) x = normal(rng);
  return ItemMatrix::FromDense(dense, rows, dims);
}

ScorerOptions Options() {
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  options.hnsw_m = 8;
  options.hnsw_ef_construction = 40;
  options.hnsw_ef = 50;
  options.build_threads = 1;
  return options;
}

ByteSink AppendTo(std::string* out) {
  return [out](absl::string_view bytes) {
    out->append(bytes.data(), bytes.size());
    return absl::OkStatus();
  };
}

// Reads `blob` from its start; past its end is an error, as the store's is.
ByteSource ReadFrom(const std::string& blob) {
  auto at = std::make_shared<size_t>(0);
  return [&blob, at](absl::Span<char> out) {
    if (blob.size() - *at < out.size()) return absl::DataLossError("blob ends");
    std::copy_n(blob.data() + *at, out.size(), out.data());
    *at += out.size();
    return absl::OkStatus();
  };
}

std::string Saved(const HnswScorer& scorer) {
  std::string blob;
  EXPECT_TRUE(scorer.Save(AppendTo(&blob)).ok());
  return blob;
}

std::string TempPath(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return std::string(root && *root ? root : "/tmp") + "/" + name;
}

TEST(HnswSerializationTest, BytesAreHnswlibsSaveIndexLayout) {
  auto items = RandomItems(1, 300, 12);
  auto built = HnswScorer::Build(items, Options());
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string path = TempPath("hnswlib_saved.bin");
  ASSERT_TRUE((*built)->SaveFile(path).ok());
  std::ifstream file(path, std::ios::binary);
  const std::string from_hnswlib((std::istreambuf_iterator<char>(file)),
                                 std::istreambuf_iterator<char>());
  const std::string ours = Saved(**built);
  EXPECT_GT(ours.size(), 300u * (12 * 4 + 8));
  EXPECT_TRUE(ours == from_hnswlib) << ours.size() << " vs " << from_hnswlib.size();

  // Loaded, then saved again byte for byte.
  auto loaded = HnswScorer::Load(items, Options(), ReadFrom(ours));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(Saved(**loaded) == ours);
  std::remove(path.c_str());
}

TEST(HnswSerializationTest, ALoadedScorerAnswersAsTheBuiltOne) {
  auto items = RandomItems(2, 2000, 16);
  auto built = HnswScorer::Build(items, Options());
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string blob = Saved(**built);
  auto loaded = HnswScorer::Load(items, Options(), ReadFrom(blob));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->items(), 2000u);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int q = 0; q < 50; ++q) {
    std::vector<float> query(16);
    for (float& x : query) x = normal(rng);
    ScoringQuery request;
    request.vector = query;
    request.k = 10;
    const ScoringResult a = (*built)->TopK(request);
    const ScoringResult b = (*loaded)->TopK(request);
    ASSERT_EQ(a.items.size(), 10u);
    ASSERT_EQ(b.items.size(), a.items.size());
    for (size_t i = 0; i < a.items.size(); ++i) {
      EXPECT_EQ(b.items[i].index, a.items[i].index) << "query " << q << " rank " << i;
      EXPECT_EQ(b.items[i].score, a.items[i].score);
    }
  }
}

TEST(HnswSerializationTest, RefusesAGraphOfOtherItemsOrParameters) {
  auto items = RandomItems(4, 500, 8);
  const std::string blob = Saved(**HnswScorer::Build(items, Options()));

  // Same shape, other vectors: caught by the stored vectors.
  auto other = RandomItems(5, 500, 8);
  absl::Status status = HnswScorer::Load(other, Options(), ReadFrom(blob)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("built from other vectors"));

  status = HnswScorer::Load(RandomItems(4, 499, 8), Options(), ReadFrom(blob)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("500 elements, expected the version's 499 items"));

  status = HnswScorer::Load(RandomItems(4, 500, 9), Options(), ReadFrom(blob)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;

  ScorerOptions m16 = Options();
  m16.hnsw_m = 16;
  status = HnswScorer::Load(items, m16, ReadFrom(blob)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("expected M=16"));
}

TEST(HnswSerializationTest, DamagedBlobsAreErrorsNotCrashes) {
  auto items = RandomItems(6, 400, 8);
  const std::string blob = Saved(**HnswScorer::Build(items, Options()));
  // Header: 13 fields; the level-0 block follows at byte 8*6 + 4 + 4 + 8*3 + 8 + 8 = 96.
  const size_t header = 96;
  const size_t per_element = (2 * 8 + 1) * 4 + 8 * 4 + 8;

  // Truncated anywhere: the source's error.
  for (size_t cut : {size_t{10}, header + 5, blob.size() - 1}) {
    absl::Status status =
        HnswScorer::Load(items, Options(), ReadFrom(blob.substr(0, cut))).status();
    EXPECT_TRUE(absl::IsDataLoss(status)) << cut << ": " << status;
  }
  // A neighbour id out of range (element 3's first level-0 link).
  std::string bad = blob;
  bad[header + 3 * per_element] = 1;  // list count 1
  const uint32_t far = 100000;
  std::memcpy(&bad[header + 3 * per_element + 4], &far, 4);
  absl::Status status = HnswScorer::Load(items, Options(), ReadFrom(bad)).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("links to 100000"));
  // A duplicated label (element 5 claims element 4's).
  bad = blob;
  const size_t label_at = (2 * 8 + 1) * 4 + 8 * 4;
  std::memcpy(&bad[header + 5 * per_element + label_at], &bad[header + 4 * per_element + label_at],
              8);
  status = HnswScorer::Load(items, Options(), ReadFrom(bad)).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("label"));
  // An upper-level link list of an impossible size.
  bad = blob;
  const uint32_t odd = 7;
  std::memcpy(&bad[header + 400 * per_element], &odd, 4);
  status = HnswScorer::Load(items, Options(), ReadFrom(bad)).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("upper-level links"));
}

}  // namespace
}  // namespace affinity::server
