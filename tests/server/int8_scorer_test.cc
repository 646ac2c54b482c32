// The int8 scorer: its kernels (every SIMD path against the portable one and
// a plain reference, bit for bit), the quantised matrix, and the scorer
// against ExactScorer (equal results, alone and batched, when the candidate
// set covers the catalog; the Scorer contract and a recall bound
// otherwise), and its candidate scan split over a ScanPool (the candidates
// and answers of the unsplit scan, ties included).
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/int8_kernels.h"
#include "server/scoring/int8_matrix.h"
#include "server/scoring/int8_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scan_pool.h"
#include "server/scoring/scorer.h"
#include "tests/server/random_items.h"

namespace affinity::server {
namespace {

constexpr Int8Isa kAllIsas[] = {Int8Isa::kPortable, Int8Isa::kAvx2, Int8Isa::kAvx512Vnni,
                                 Int8Isa::kAmx};

using testing::RandomVector;
using testing::RandomItems;

// Blocks in the int8_kernels.h layout holding every byte value (0..255,
// i.e. -128..127), 64-byte aligned.
struct RawBlocks {
  std::vector<uint8_t> storage;
  uint8_t* data = nullptr;
  size_t groups = 0;
  size_t nblocks = 0;
  int32_t value(size_t row, size_t d) const {
    const uint8_t* b = data + (row / kInt8BlockRows) * groups * kInt8BlockGroupBytes;
    return int32_t{b[(d / 4) * kInt8BlockGroupBytes + (row % kInt8BlockRows) * 4 + d % 4]} - 128;
  }
};

RawBlocks MakeBlocks(std::mt19937* rng, size_t nblocks, size_t groups, bool extremes) {
  RawBlocks r;
  r.groups = groups;
  r.nblocks = nblocks;
  r.storage.resize(nblocks * groups * kInt8BlockGroupBytes + 64);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(r.storage.data());
  r.data = r.storage.data() + (64 - addr % 64) % 64;
  std::uniform_int_distribution<int> byte(0, 255);
  std::bernoulli_distribution coin(0.5);
  for (size_t i = 0; i < nblocks * groups * kInt8BlockGroupBytes; ++i) {
    r.data[i] = static_cast<uint8_t>(extremes ? (coin(*rng) ? 0 : 255) : byte(*rng));
  }
  return r;
}

TEST(Int8KernelsTest, BestPathIsSupportedAndPortableAlwaysIs) {
  EXPECT_TRUE(Int8IsaSupported(Int8Isa::kPortable));
  EXPECT_TRUE(Int8IsaSupported(BestInt8Isa()));
}

TEST(Int8KernelsTest, EverySupportedPathEqualsThePlainSumBitForBit) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (bool extremes : {false, true}) {
    for (size_t groups : {1, 3, 16, 25}) {
      for (size_t nq : {1, 3, 4, 5, 9, 17, 33, 64}) {
        const size_t nblocks = 3;
        RawBlocks blocks = MakeBlocks(&rng, nblocks, groups, extremes);
        std::vector<std::vector<int8_t>> queries(nq, std::vector<int8_t>(groups * 4));
        std::vector<const int8_t*> pointers;
        for (auto& q : queries) {
          for (int8_t& v : q) v = static_cast<int8_t>(extremes ? (byte(rng) < 0 ? -128 : 127) : byte(rng));
          pointers.push_back(q.data());
        }
        std::vector<int32_t> want(nq * nblocks * kInt8BlockRows);
        for (size_t q = 0; q < nq; ++q) {
          for (size_t row = 0; row < nblocks * kInt8BlockRows; ++row) {
            int64_t sum = 0;
            for (size_t d = 0; d < groups * 4; ++d) sum += blocks.value(row, d) * queries[q][d];
            want[q * nblocks * kInt8BlockRows + row] = static_cast<int32_t>(sum);
          }
        }
        for (Int8Isa isa : kAllIsas) {
          if (!Int8IsaSupported(isa)) continue;
          std::vector<int32_t> got(want.size(), -1);
          Int8DotBlocks(isa, blocks.data, nblocks, groups, pointers.data(), nq, got.data());
          EXPECT_EQ(got, want) << Int8IsaName(isa) << " groups " << groups << " queries " << nq
                               << (extremes ? " extremes" : "");
        }
      }
    }
  }
}

TEST(Int8KernelsTest, QueryBiasIs128TimesTheSumOfTheQueryBytes) {
  std::mt19937 rng(19);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (size_t groups : {1, 3, 15, 16, 17, 25, 40}) {
    for (int fill : {0, -128, 127, 1}) {  // 1: random bytes
      std::vector<int8_t> query(groups * 4);
      for (int8_t& v : query) v = static_cast<int8_t>(fill == 1 ? byte(rng) : fill);
      int32_t sum = 0;
      for (int8_t v : query) sum += v;
      EXPECT_EQ(Int8QueryBias(query.data(), groups), 128 * sum)
          << "groups " << groups << " fill " << fill;
    }
  }
}

TEST(Int8KernelsTest, EverySupportedPathFindsTheScoresAtOrAboveTheThreshold) {
  std::mt19937 rng(18);
  std::uniform_int_distribution<int32_t> dot(-2000000, 2000000);
  std::uniform_real_distribution<float> scale(0.0f, 0.01f);
  const float query_scale = 0.0123f;
  for (size_t n : {1, 7, 8, 16, 17, 63, 64, 65, 1000, 1024}) {
    std::vector<int32_t> dots(n);
    std::vector<float> scales(n);
    for (size_t i = 0; i < n; ++i) {
      dots[i] = dot(rng);
      scales[i] = scale(rng);
    }
    std::vector<float> scores(n);
    for (size_t i = 0; i < n; ++i) scores[i] = Int8Score(dots[i], scales[i], query_scale);
    std::vector<float> sorted = scores;
    std::sort(sorted.begin(), sorted.end());
    // Thresholds: below everything, a score itself (ties pass), just above
    // the best (nothing passes).
    for (float threshold : {-1e30f, sorted[n / 2], std::nextafter(sorted.back(), 1e30f)}) {
      const size_t words = (n + 63) / 64;
      std::vector<uint64_t> want(words, 0);
      for (size_t i = 0; i < n; ++i) {
        if (scores[i] >= threshold) want[i / 64] |= uint64_t{1} << (i % 64);
      }
      const bool any = std::any_of(want.begin(), want.end(), [](uint64_t w) { return w != 0; });
      for (Int8Isa isa : kAllIsas) {
        if (!Int8IsaSupported(isa)) continue;
        std::vector<uint64_t> got(words, ~uint64_t{0});
        EXPECT_EQ(Int8ScoresAtOrAbove(isa, dots.data(), scales.data(), query_scale, threshold, n,
                                      got.data()),
                  any)
            << Int8IsaName(isa) << " n " << n;
        EXPECT_EQ(got, want) << Int8IsaName(isa) << " n " << n << " threshold " << threshold;
      }
    }
  }
}

// The scan step against the plain sum and Int8Score per row and query:
// every path's masks (bits past n clear) and its sums for the rows it
// marks, query counts across AMX's tiles (4, 16, 17, 32, 33, 64) and below
// them, an odd number of blocks, a last block cut short, thresholds from
// below everything to above everything.
TEST(Int8KernelsTest, EverySupportedPathScansBlocksLikeThePlainSumAndThreshold) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> byte(-127, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.01f);
  for (size_t groups : {3, 16, 20}) {
    for (size_t nq : {1, 3, 4, 16, 17, 32, 33, 64}) {
      for (size_t nblocks : {1, 5, 8}) {
        const size_t rows = nblocks * kInt8BlockRows;
        const size_t n = nblocks == 5 ? rows - 7 : rows;
        RawBlocks blocks = MakeBlocks(&rng, nblocks, groups, false);
        std::vector<float> row_scales(rows, 0.0f);
        for (size_t i = 0; i < n; ++i) row_scales[i] = scale(rng);
        std::vector<std::vector<int8_t>> queries(nq, std::vector<int8_t>(groups * 4));
        std::vector<const int8_t*> pointers;
        std::vector<float> query_scales, thresholds;
        for (auto& q : queries) {
          for (int8_t& v : q) v = static_cast<int8_t>(byte(rng));
          pointers.push_back(q.data());
          query_scales.push_back(scale(rng));
        }
        const size_t words = Int8MaskWords(nblocks);
        std::vector<int32_t> sums(nq * rows);
        std::vector<uint64_t> want(nq * words, 0);
        for (size_t q = 0; q < nq; ++q) {
          std::vector<float> scores;
          for (size_t row = 0; row < rows; ++row) {
            int64_t sum = 0;
            for (size_t d = 0; d < groups * 4; ++d) sum += blocks.value(row, d) * queries[q][d];
            sums[q * rows + row] = static_cast<int32_t>(sum);
            if (row < n) {
              scores.push_back(Int8Score(sums[q * rows + row], row_scales[row], query_scales[q]));
            }
          }
          std::vector<float> sorted = scores;
          std::sort(sorted.begin(), sorted.end());
          const float choices[] = {-1e30f, sorted[n / 2], sorted[n - 1 - n / 10],
                                   std::nextafter(sorted.back(), 1e30f)};
          thresholds.push_back(choices[q % 4]);
          for (size_t row = 0; row < n; ++row) {
            if (scores[row] >= thresholds[q]) {
              want[q * words + row / 64] |= uint64_t{1} << (row % 64);
            }
          }
        }
        for (Int8Isa isa : kAllIsas) {
          if (!Int8IsaSupported(isa)) continue;
          const std::string what = std::string(Int8IsaName(isa)) + " groups " +
                                   std::to_string(groups) + " queries " + std::to_string(nq) +
                                   " blocks " + std::to_string(nblocks);
          std::vector<int32_t> dots(nq * rows, -1);
          std::vector<uint64_t> masks(nq * words, ~uint64_t{0});
          Int8ScanBlocks(isa, blocks.data, nblocks, groups, pointers.data(), nq, row_scales.data(),
                         n, query_scales.data(), thresholds.data(), dots.data(), masks.data());
          EXPECT_EQ(masks, want) << what;
          for (size_t q = 0; q < nq; ++q) {
            for (size_t row = 0; row < n; ++row) {
              if ((want[q * words + row / 64] >> (row % 64)) & 1) {
                EXPECT_EQ(dots[q * rows + row], sums[q * rows + row])
                    << what << " query " << q << " row " << row;
              }
            }
          }
        }
      }
    }
  }
}

TEST(Int8MatrixTest, RowsAreWithinHalfAStepOfTheirScaledIntegers) {
  std::mt19937 rng(12);
  const size_t rows = 37, dims = 10;
  std::vector<float> dense = RandomVector(&rng, rows * dims);
  for (size_t d = 0; d < dims; ++d) dense[5 * dims + d] = 0;  // a zero row
  auto m = ItemMatrix::FromDense(dense, rows, dims);
  Int8Matrix q(*m);
  EXPECT_EQ(q.groups(), 3u);
  EXPECT_EQ(q.blocks(), 3u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q.block(0)) % 64, 0u);
  EXPECT_EQ(q.scales()[5], 0.0f);
  for (size_t i = 0; i < rows; ++i) {
    int max_abs = 0;
    for (size_t d = 0; d < dims; ++d) {
      const int32_t v = q.value(i, d);
      max_abs = std::max(max_abs, std::abs(v));
      EXPECT_LE(std::abs(v), 127);
      EXPECT_LE(std::fabs(q.scales()[i] * v - m->row(i)[d]), q.scales()[i] * 0.5f + 1e-6f)
          << "row " << i << " dim " << d;
    }
    for (size_t d = dims; d < q.groups() * 4; ++d) EXPECT_EQ(q.value(i, d), 0);
    EXPECT_EQ(max_abs, i == 5 ? 0 : 127) << "row " << i;
  }
  // Padding rows of the last block hold 0.
  for (size_t i = rows; i < q.blocks() * kInt8BlockRows; ++i) EXPECT_EQ(q.value(i, 0), 0);

  const std::vector<float> query = RandomVector(&rng, dims);
  Int8Query qq = q.Quantize(query);
  ASSERT_EQ(qq.values.size(), 12u);
  for (size_t d = 0; d < dims; ++d) {
    EXPECT_LE(std::fabs(qq.scale * qq.values[d] - query[d]), qq.scale * 0.5f + 1e-6f);
  }
}

void ExpectIdentical(const std::vector<ScoredIndex>& got, const std::vector<ScoredIndex>& want,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].index, want[i].index) << what << " rank " << i;
    EXPECT_EQ(got[i].score, want[i].score) << what << " rank " << i;
  }
}

// n random queries of varied k (1 + (i * k_step) % k_range): every second
// one with `excluded`, every third (from the second) restricted to
// `allowed`. Holds the vectors the queries point into.
struct MixedQueries {
  MixedQueries(std::mt19937* rng, size_t n, size_t dims, size_t k_step, size_t k_range,
               const ExclusionSet* excluded, const ItemBitmap* allowed) {
    for (size_t i = 0; i < n; ++i) vectors.push_back(RandomVector(rng, dims));
    for (size_t i = 0; i < n; ++i) {
      ScoringQuery q{vectors[i], 1 + (i * k_step) % k_range, i % 2 == 1 ? excluded : nullptr};
      if (i % 3 == 1) q.allowed = allowed;
      queries.push_back(q);
    }
  }
  std::vector<std::vector<float>> vectors;
  std::vector<ScoringQuery> queries;
};

ItemBitmap EveryThird(size_t rows) {
  ItemBitmap allowed(rows);
  for (size_t i = 0; i < rows; i += 3) allowed.Set(static_cast<uint32_t>(i));
  return allowed;
}

TEST(Int8ScorerTest, EqualsExactScorerWhenCandidatesCoverTheCatalog) {
  std::mt19937 rng(13);
  for (size_t dims : {1, 7, 33, 64}) {
    const size_t rows = 1000;
    auto m = RandomItems(&rng, rows, dims);
    ExactScorer exact(m);
    const ItemBitmap allowed = EveryThird(rows);
    ExclusionSet excluded({0, 3, 6, 500, 999});
    for (Int8Isa isa : kAllIsas) {
      if (!Int8IsaSupported(isa)) continue;
      // k * factor >= rows: every item is a candidate.
      Int8Scorer scorer(m, rows, isa);
      for (int trial = 0; trial < 3; ++trial) {
        const std::vector<float> q = RandomVector(&rng, dims);
        ScoringQuery query{q, 10, &excluded};
        const std::string what = std::string(Int8IsaName(isa)) + " dims " + std::to_string(dims);
        ExpectIdentical(scorer.TopK(query).items, exact.TopK(query).items, what);
        query.allowed = &allowed;
        ExpectIdentical(scorer.TopK(query).items, exact.TopK(query).items, what + " allowed");
        // Alone or batched, the exact scorer's scores are the same; so are these.
        ExpectIdentical(scorer.TopKBatch({query, query})[1].items, exact.TopK(query).items,
                        what + " batched vs exact alone");
      }
    }
  }
}

TEST(Int8ScorerTest, BatchEqualsExactBatchAcrossQueryGroupsAndGatherQueries) {
  std::mt19937 rng(14);
  const size_t rows = 700, dims = 24;
  auto m = RandomItems(&rng, rows, dims);
  ExactScorer exact(m);
  Int8Scorer scorer(m, rows);
  const ItemBitmap third = EveryThird(rows);
  ItemBitmap few(rows);  // under 5% of the items: the gather scan
  for (uint32_t i = 0; i < 20; ++i) few.Set(i * 31);
  // More queries than one kernel call takes.
  const size_t nq = kInt8MaxQueries + 7;
  std::vector<std::vector<float>> vectors;
  std::vector<ExclusionSet> exclusions;
  for (size_t i = 0; i < nq; ++i) {
    vectors.push_back(RandomVector(&rng, dims));
    exclusions.emplace_back(std::vector<uint32_t>{static_cast<uint32_t>(i), 7});
  }
  std::vector<ScoringQuery> queries;
  for (size_t i = 0; i < nq; ++i) {
    ScoringQuery q{vectors[i], 1 + i % 12, &exclusions[i]};
    if (i % 5 == 1) q.allowed = &third;
    if (i % 9 == 2) q.allowed = &few;
    queries.push_back(q);
  }
  std::vector<ScoringResult> got = scorer.TopKBatch(queries);
  std::vector<ScoringResult> want = exact.TopKBatch(queries);
  ASSERT_EQ(got.size(), nq);
  for (size_t i = 0; i < nq; ++i) {
    ExpectIdentical(got[i].items, want[i].items, "query " + std::to_string(i));
  }
}

TEST(Int8ScorerTest, SplitCandidateScanEqualsTheUnsplitOne) {
  std::mt19937 rng(18);
  // 10,007 rows (the last range ends inside a chunk) repeating 1,500
  // distinct ones: int8 and float scores tie across range boundaries.
  const size_t rows = 10007, distinct = 1500, dims = 24;
  const std::vector<float> base = RandomVector(&rng, distinct * dims);
  std::vector<float> dense(rows * dims);
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(base.data() + (r % distinct) * dims, dims, dense.data() + r * dims);
  }
  const std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  auto pool = std::make_shared<ScanPool>(3);
  const Int8Scorer serial(m, 4);
  const Int8Scorer split(m, 4, BestInt8Isa(), pool, 1000);
  ASSERT_EQ(serial.Parts(), 1u);
  ASSERT_EQ(split.Parts(), 3u);
  EXPECT_EQ(Int8Scorer(m, 4, BestInt8Isa(), pool).Parts(), 1u);  // 64k rows per part
  std::vector<uint32_t> excluded_indices;
  for (int i = 0; i < 300; ++i) excluded_indices.push_back(static_cast<uint32_t>(rng() % rows));
  const ExclusionSet excluded(excluded_indices);
  ItemBitmap half(rows);
  for (uint32_t i = 0; i < rows; ++i) {
    if (rng() % 2 == 0) half.Set(i);
  }
  const MixedQueries mixed(&rng, 30, dims, 7, 40, &excluded, &half);
  const std::vector<ScoringQuery>& queries = mixed.queries;
  for (size_t i = 0; i < queries.size(); ++i) {
    const std::string what = "query " + std::to_string(i);
    ExpectIdentical(split.Candidates(queries[i]), serial.Candidates(queries[i]),
                    what + " candidates");
    ExpectIdentical(split.TopK(queries[i]).items, serial.TopK(queries[i]).items, what + " TopK");
  }
  const std::vector<ScoringResult> got = split.TopKBatch(queries);
  const std::vector<ScoringResult> want = serial.TopKBatch(queries);
  for (size_t i = 0; i < queries.size(); ++i) {
    ExpectIdentical(got[i].items, want[i].items, "batch query " + std::to_string(i));
  }
  // Every item a candidate, split: the exact scorer's answers.
  const ExactScorer exact(m);
  const Int8Scorer everything(m, rows, BestInt8Isa(), pool, 1000);
  for (size_t i = 0; i < 6; ++i) {
    ExpectIdentical(everything.TopK(queries[i]).items, exact.TopK(queries[i]).items,
                    "split, all candidates, query " + std::to_string(i));
  }
}

// The sampled threshold (int8_scorer.h): on a matrix large enough to take
// it, split or not, the candidates and answers are those of the pass
// without it, ties included (rows repeat), with filters and exclusions.
TEST(Int8ScorerTest, SampledThresholdKeepsTheCandidatesOfTheFullPass) {
  std::mt19937 rng(31);
  const size_t chunk_rows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t rows = chunk_rows * (kInt8SampleMinChunks + 9) + 77, distinct = 20000, dims = 8;
  const std::vector<float> base = RandomVector(&rng, distinct * dims);
  std::vector<float> dense(rows * dims);
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(base.data() + (r % distinct) * dims, dims, dense.data() + r * dims);
  }
  const std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  auto pool = std::make_shared<ScanPool>(2);
  const Int8Scorer full(m, 4, BestInt8Isa(), nullptr, Int8Scorer::kDefaultMinRowsPerPart,
                        /*sample_first=*/false);
  const Int8Scorer sampled(m, 4);
  const Int8Scorer sampled_split(m, 4, BestInt8Isa(), pool, 1000);
  ASSERT_EQ(sampled_split.Parts(), 2u);
  std::vector<uint32_t> excluded_indices;
  for (int i = 0; i < 500; ++i) excluded_indices.push_back(static_cast<uint32_t>(rng() % rows));
  const ExclusionSet excluded(excluded_indices);
  const ItemBitmap third = EveryThird(rows);
  const MixedQueries mixed(&rng, 40, dims, 13, 300, &excluded, &third);
  const std::vector<ScoringQuery>& queries = mixed.queries;
  for (size_t i = 0; i < queries.size(); ++i) {
    const std::string what = "query " + std::to_string(i);
    const std::vector<ScoredIndex> want = full.Candidates(queries[i]);
    ExpectIdentical(sampled.Candidates(queries[i]), want, what + " candidates");
    ExpectIdentical(sampled_split.Candidates(queries[i]), want, what + " split candidates");
  }
  const std::vector<ScoringResult> want = full.TopKBatch(queries);
  const std::vector<ScoringResult> got = sampled.TopKBatch(queries);
  const std::vector<ScoringResult> got_split = sampled_split.TopKBatch(queries);
  for (size_t i = 0; i < queries.size(); ++i) {
    ExpectIdentical(got[i].items, want[i].items, "batch query " + std::to_string(i));
    ExpectIdentical(got_split[i].items, want[i].items, "split batch query " + std::to_string(i));
  }
  // A random catalog's sample is like the rest: no query was scanned twice.
  EXPECT_EQ(sampled.sample_misses(), 0u);
  EXPECT_EQ(sampled_split.sample_misses(), 0u);
}

// Queries of the homepage rules' first fetch (k = 40 at candidate factor 2:
// 80 candidates) over a catalog whose sample is like the rest: the sampled
// threshold leaves almost none of them short (int8_scorer.h puts it at
// about 0.02%), so almost none is scanned a second time. With the r = 10 of
// a margin of 2, 6 of these 600 were (and 2.7% of BM_Int8HomepagePass's).
TEST(Int8ScorerTest, TheSampleRarelyLeavesAFirstFetchShort) {
  std::mt19937 rng(33);
  const size_t chunk_rows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t rows = chunk_rows * (kInt8SampleMinChunks + 40), dims = 8;
  const std::shared_ptr<const ItemMatrix> m = RandomItems(&rng, rows, dims);
  const Int8Scorer sampled(m, 2);
  const std::vector<std::vector<float>> vectors = [&] {
    std::vector<std::vector<float>> out;
    for (int i = 0; i < 600; ++i) out.push_back(RandomVector(&rng, dims));
    return out;
  }();
  std::vector<ScoringQuery> queries;
  for (const std::vector<float>& v : vectors) queries.push_back({v, 40, nullptr});
  for (size_t first = 0; first < queries.size(); first += 30) {
    const auto batch = absl::MakeConstSpan(queries.data() + first, 30);
    for (const ScoringResult& r : sampled.TopKBatch(batch)) ASSERT_EQ(r.items.size(), 40u);
  }
  EXPECT_LE(sampled.sample_misses(), 2u);
}

// A sample unlike the rest of the catalog: the sampled chunks hold the only
// rows pointing the query's way, so the sampled threshold leaves the query
// short and it is scanned again, with the full pass's candidates.
TEST(Int8ScorerTest, AQueryTheSampleLeftShortIsScannedAgain) {
  const size_t chunk_rows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t rows = chunk_rows * kInt8SampleMinChunks, dims = 4;
  std::mt19937 rng(32);
  std::uniform_real_distribution<float> jitter(0.5f, 1.0f);
  std::vector<float> dense(rows * dims);
  for (size_t r = 0; r < rows; ++r) {
    const bool sampled_chunk = (r / chunk_rows) % kInt8SampleStride == kInt8SampleStride / 2;
    for (size_t d = 0; d < dims; ++d) {
      dense[r * dims + d] = (sampled_chunk ? 1.0f : -1.0f) * jitter(rng);
    }
  }
  const std::shared_ptr<const ItemMatrix> m = ItemMatrix::FromDense(dense, rows, dims);
  const Int8Scorer full(m, 4, BestInt8Isa(), nullptr, Int8Scorer::kDefaultMinRowsPerPart,
                        /*sample_first=*/false);
  const Int8Scorer sampled(m, 4);
  const std::vector<float> query(dims, 1.0f);
  const ScoringQuery q{query, 50, nullptr};
  const std::vector<ScoredIndex> want = full.Candidates(q);
  ASSERT_EQ(want.size(), 200u);
  ExpectIdentical(sampled.Candidates(q), want, "candidates");
  EXPECT_EQ(sampled.sample_misses(), 1u);
  const ScoringResult answer = sampled.TopK(q);
  ExpectIdentical(answer.items, full.TopK(q).items, "answer");
  EXPECT_EQ(sampled.sample_misses(), 2u);
  // Its rows were scored twice, and the count says so.
  EXPECT_EQ(answer.items_scored, 2 * rows);
  EXPECT_EQ(full.TopK(q).items_scored, rows);
}

// A rule set's compact copy (PrepareAllowed): queries naming it get the
// candidates and answers of the full pass, alone or in a batch mixing
// them with queries over the whole matrix, split or not; items_scored
// counts the copy's rows. Sets too large or too small get no copy, nor one
// larger than the bytes allowed, and a copy another scorer made is not used.
TEST(Int8ScorerTest, AnAllowedSetsCopyGivesTheAnswersOfTheFullPass) {
  std::mt19937 rng(33);
  const size_t chunk_rows = kInt8ScanChunkBlocks * kInt8BlockRows;
  const size_t rows = chunk_rows * (3 * kInt8SampleMinChunks) + 5, dims = 8;
  const std::shared_ptr<const ItemMatrix> m = RandomItems(&rng, rows, dims);
  auto pool = std::make_shared<ScanPool>(2);
  const Int8Scorer serial(m, 2);
  const Int8Scorer split(m, 2, BestInt8Isa(), pool, 1000);
  const ItemBitmap third = EveryThird(rows);
  constexpr size_t kAnySize = std::numeric_limits<size_t>::max();
  const std::shared_ptr<const AllowedScan> serial_copy = serial.PrepareAllowed(third, kAnySize);
  const std::shared_ptr<const AllowedScan> split_copy = split.PrepareAllowed(third, kAnySize);
  ASSERT_NE(serial_copy, nullptr);
  ASSERT_NE(split_copy, nullptr);
  // Its size: int8 rows padded to whole blocks with their scales, and the
  // item of each row; known before it is made, and a limit below it refused.
  const size_t blocks = (third.count() + kInt8BlockRows - 1) / kInt8BlockRows;
  EXPECT_EQ(serial_copy->bytes(), blocks * kInt8BlockRows * (dims + 4) + third.count() * 4);
  EXPECT_EQ(Int8AllowedScan::BytesFor(third.count(), dims), serial_copy->bytes());
  EXPECT_EQ(serial.PrepareAllowed(third, serial_copy->bytes() - 1), nullptr);
  EXPECT_NE(serial.PrepareAllowed(third, serial_copy->bytes()), nullptr);
  // The default budget of a version's copies: half of the full int8 copy.
  EXPECT_EQ(serial.AllowedScanBudget(), serial.int8_matrix().bytes() / 2);
  const Int8Scorer budgeted(m, 2, BestInt8Isa(), nullptr, 1000, true, 12345);
  EXPECT_EQ(budgeted.AllowedScanBudget(), 12345u);
  ItemBitmap most(rows), few(rows);
  for (uint32_t i = 0; i < rows; ++i) {
    if (i % 5 != 0) most.Set(i);  // 80%: the full pass reads little more
    if (i % 50 == 0) few.Set(i);  // 2%: the exact gather scan takes these
  }
  EXPECT_EQ(serial.PrepareAllowed(most, kAnySize), nullptr);
  EXPECT_EQ(serial.PrepareAllowed(few, kAnySize), nullptr);

  std::vector<uint32_t> excluded_indices;
  for (int i = 0; i < 400; ++i) excluded_indices.push_back(static_cast<uint32_t>(rng() % rows));
  const ExclusionSet excluded(excluded_indices);
  const MixedQueries mixed(&rng, 24, dims, 11, 250, &excluded, &third);
  for (const Int8Scorer* scorer : {&serial, &split}) {
    const AllowedScan* copy = scorer == &serial ? serial_copy.get() : split_copy.get();
    const AllowedScan* foreign = scorer == &serial ? split_copy.get() : serial_copy.get();
    const std::string which = scorer == &serial ? "serial " : "split ";
    std::vector<ScoringQuery> with_copy;
    for (const ScoringQuery& q : mixed.queries) {
      ScoringQuery c = q;
      if (c.allowed != nullptr) c.allowed_scan = copy;
      with_copy.push_back(c);
    }
    for (size_t i = 0; i < with_copy.size(); ++i) {
      const std::string what = which + "query " + std::to_string(i);
      ExpectIdentical(scorer->Candidates(with_copy[i]), scorer->Candidates(mixed.queries[i]),
                      what + " candidates");
      const ScoringResult got = scorer->TopK(with_copy[i]);
      ExpectIdentical(got.items, scorer->TopK(mixed.queries[i]).items, what + " TopK");
      EXPECT_EQ(got.items_scored, with_copy[i].allowed != nullptr ? third.count() : rows) << what;
    }
    const std::vector<ScoringResult> got = scorer->TopKBatch(with_copy);
    const std::vector<ScoringResult> want = scorer->TopKBatch(mixed.queries);
    for (size_t i = 0; i < got.size(); ++i) {
      ExpectIdentical(got[i].items, want[i].items, which + "batch query " + std::to_string(i));
    }
    // Another scorer's copy: the full pass.
    ScoringQuery other = mixed.queries[1];
    ASSERT_NE(other.allowed, nullptr);
    other.allowed_scan = foreign;
    EXPECT_EQ(scorer->TopK(other).items_scored, rows) << which;
  }
}

TEST(Int8ScorerTest, KeepsTheScorerContractWithFewCandidates) {
  std::mt19937 rng(15);
  const size_t rows = 2000, dims = 16;
  auto m = RandomItems(&rng, rows, dims);
  Int8Scorer scorer(m, 2);
  const std::vector<float> q = RandomVector(&rng, dims);
  // Exclude the int8 stage's own favourites: the candidates must skip them.
  ExclusionSet none;
  std::vector<uint32_t> top;
  for (const ScoredIndex& s : scorer.Candidates({q, 50, &none})) top.push_back(s.index);
  ASSERT_EQ(top.size(), 100u);
  ExclusionSet excluded(top);
  ItemBitmap allowed(rows);  // 6%: scanned, not gathered
  for (uint32_t i = 0; i < rows; i += 16) allowed.Set(i);
  ScoringQuery query{q, 20, &excluded};
  query.allowed = &allowed;
  ScoringResult r = scorer.TopK(query);
  ASSERT_EQ(r.items.size(), 20u);
  for (const ScoredIndex& s : r.items) {
    EXPECT_FALSE(excluded.Contains(s.index));
    EXPECT_TRUE(allowed.Contains(s.index));
  }
  // k beyond what is allowed: everything allowed and not excluded comes back.
  size_t available = 0;
  for (uint32_t i = 0; i < rows; i += 16) available += !excluded.Contains(i);
  query.k = 500;
  EXPECT_EQ(scorer.TopK(query).items.size(), available);
  EXPECT_EQ(scorer.TopKBatch({query, query})[1].items.size(), available);
}

TEST(Int8ScorerTest, CandidateRecallOnRandomDataIsHigh) {
  std::mt19937 rng(16);
  const size_t rows = 20000, dims = 64;
  auto m = RandomItems(&rng, rows, dims);
  ExactScorer exact(m);
  Int8Scorer scorer(m, 4);
  ExclusionSet none;
  size_t hits = 0, total = 0, exact_answers = 0;
  const int queries = 50;
  for (int i = 0; i < queries; ++i) {
    const std::vector<float> q = RandomVector(&rng, dims);
    std::set<uint32_t> candidates;
    for (const ScoredIndex& s : scorer.Candidates({q, 10, &none})) candidates.insert(s.index);
    EXPECT_EQ(candidates.size(), 40u);
    const std::vector<ScoredIndex> truth = exact.TopK({q, 10, &none}).items;
    for (const ScoredIndex& s : truth) hits += candidates.count(s.index);
    total += truth.size();
    const std::vector<ScoredIndex> got = scorer.TopK({q, 10, &none}).items;
    bool same = got.size() == truth.size();
    for (size_t r = 0; same && r < got.size(); ++r) {
      same = got[r].index == truth[r].index && got[r].score == truth[r].score;
    }
    exact_answers += same;
  }
  const double recall = static_cast<double>(hits) / total;
  EXPECT_GE(recall, 0.98);
  // An answer is exact whenever the true top 10 are all candidates.
  EXPECT_GE(exact_answers, static_cast<size_t>(queries * 0.8));
}

TEST(Int8ScorerTest, ParsedAndMadeByName) {
  std::mt19937 rng(17);
  ASSERT_TRUE(ParseScorerKind("int8").ok());
  ScorerOptions options;
  options.kind = *ParseScorerKind("int8");
  options.int8_candidate_factor = 3;
  auto scorer = MakeScorer(RandomItems(&rng, 100, 8), options);
  ASSERT_TRUE(scorer.ok());
  EXPECT_STREQ((*scorer)->name(), "int8");
  EXPECT_TRUE((*scorer)->BenefitsFromBatching());
  EXPECT_EQ(static_cast<Int8Scorer*>(scorer->get())->CandidatesFor(10), 30u);
}

}  // namespace
}  // namespace affinity::server
