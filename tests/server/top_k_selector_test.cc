// TopKSelector against a full sort of the same candidates: the k best
// allowed, not excluded (score, index) pairs, best first, ties to the lower
// index, for k from 0 to past the input, with many ties and NaN scores; and
// MergeBestFirst (the merge of split scans) against one selection.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/top_k.h"

namespace affinity::server {
namespace {

class OddIndices : public ItemPredicate {
 public:
  bool Allows(uint32_t index) const override { return index % 2 == 1; }
};

// The reference: every admissible candidate sorted, the first k kept.
std::vector<ScoredIndex> SortedTopK(const std::vector<ScoredIndex>& pushed, size_t k,
                                    const ExclusionSet& excluded, const ItemBitmap* allowed,
                                    const ItemPredicate* also_allowed) {
  std::vector<ScoredIndex> admissible;
  for (const ScoredIndex& c : pushed) {
    if (std::isnan(c.score) || excluded.Contains(c.index)) continue;
    if (allowed != nullptr && !allowed->Contains(c.index)) continue;
    if (also_allowed != nullptr && !also_allowed->Allows(c.index)) continue;
    admissible.push_back(c);
  }
  std::sort(admissible.begin(), admissible.end(), [](const ScoredIndex& a, const ScoredIndex& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  });
  if (admissible.size() > k) admissible.resize(k);
  return admissible;
}

void ExpectSame(const std::vector<ScoredIndex>& got, const std::vector<ScoredIndex>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].index, want[i].index) << "rank " << i;
    EXPECT_EQ(got[i].score, want[i].score) << "rank " << i;
  }
}

TEST(TopKSelectorTest, MatchesAFullSortForEveryK) {
  std::mt19937 rng(7);
  // Scores from a small set, so ties are everywhere; a few NaN.
  std::uniform_int_distribution<int> level(0, 40);
  const size_t n = 5000;
  std::vector<ScoredIndex> pushed;
  for (uint32_t i = 0; i < n; ++i) {
    const int l = level(rng);
    pushed.push_back({i, l == 0 ? std::numeric_limits<float>::quiet_NaN() : 0.25f * l});
  }
  std::shuffle(pushed.begin(), pushed.end(), rng);
  ExclusionSet excluded({3, 17, 200, 4999, 1234, 77});
  ItemBitmap allowed(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (i % 3 != 0) allowed.Set(i);
  }
  OddIndices odd;
  for (size_t k : {0, 1, 2, 10, 210, 840, 2000, 6000}) {
    for (int filters = 0; filters < 3; ++filters) {
      const ItemBitmap* bitmap = filters >= 1 ? &allowed : nullptr;
      const ItemPredicate* predicate = filters >= 2 ? &odd : nullptr;
      TopKSelector selector(k, &excluded, bitmap, predicate);
      for (const ScoredIndex& c : pushed) selector.Push(c.index, c.score);
      SCOPED_TRACE(testing::Message() << "k=" << k << " filters=" << filters);
      ExpectSame(selector.Take(), SortedTopK(pushed, k, excluded, bitmap, predicate));
    }
  }
}

TEST(TopKSelectorTest, ThresholdRisesAndNeverPassesTheKthBest) {
  TopKSelector selector(4, nullptr);
  EXPECT_EQ(selector.threshold(), -std::numeric_limits<float>::infinity());
  // Ascending scores: every push enters, and the buffer compacts every 4.
  for (uint32_t i = 0; i < 100; ++i) {
    selector.Push(i, static_cast<float>(i));
    // The threshold may trail the 4th best pushed so far, never pass it.
    if (i >= 3) {
      EXPECT_LE(selector.threshold(), static_cast<float>(i - 3));
    }
  }
  EXPECT_GT(selector.threshold(), 80.0f);
  const std::vector<ScoredIndex> got = selector.Take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].index, 99u);
  EXPECT_EQ(got[3].index, 96u);
}

TEST(TopKSelectorTest, PushBlockSelectsWhatPushesSelect) {
  // Blocks at offsets that are and are not multiples of 64 (the bitmap is
  // then read by word or bit by bit), with lengths not multiples of 64.
  const size_t n = 3000;
  std::vector<float> scores(n);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (float& s : scores) s = normal(rng);
  scores[100] = std::numeric_limits<float>::quiet_NaN();
  scores[101] = scores[102];  // a tie
  // The items the bitmap leaves out score best, so any that leaks shows.
  ItemBitmap allowed(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (i % 5 != 2) {
      allowed.Set(i);
    } else {
      scores[i] += 10.0f;
    }
  }
  ExclusionSet excluded({7, 64, 640, 2999});
  std::vector<ScoredIndex> pushed;
  for (uint32_t i = 0; i < n; ++i) pushed.push_back({i, scores[i]});
  for (size_t k : {1, 25, 300}) {
    for (const ItemBitmap* bitmap : std::vector<const ItemBitmap*>{nullptr, &allowed}) {
      TopKSelector by_block(k, &excluded, bitmap);
      // [first, end) ranges covering every index once, out of order.
      const std::vector<std::pair<size_t, size_t>> blocks = {
          {1024, 1093}, {0, 5}, {2560, n}, {5, 1024}, {1093, 2560}};
      for (const auto& [first, end] : blocks) {
        by_block.PushBlock(static_cast<uint32_t>(first), scores.data() + first, end - first);
      }
      SCOPED_TRACE(testing::Message() << "k=" << k << " bitmap=" << (bitmap != nullptr));
      ExpectSame(by_block.Take(), SortedTopK(pushed, k, excluded, bitmap, nullptr));
    }
  }
}

TEST(TopKSelectorTest, TakeStartsOver) {
  TopKSelector selector(3, nullptr);
  for (uint32_t i = 0; i < 50; ++i) selector.Push(i, static_cast<float>(i));
  EXPECT_EQ(selector.Take().size(), 3u);
  // After Take the selector is empty with its threshold reset.
  EXPECT_EQ(selector.threshold(), -std::numeric_limits<float>::infinity());
  selector.Push(1, -100.0f);
  const std::vector<ScoredIndex> again = selector.Take();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].index, 1u);
}

TEST(TopKSelectorTest, CountsWhatTheFiltersDropped) {
  ItemBitmap allowed(10);
  allowed.Set(1);
  allowed.Set(2);
  ExclusionSet excluded({2});
  TopKSelector selector(5, &excluded, &allowed);
  for (uint32_t i = 0; i < 10; ++i) selector.Push(i, 1.0f);
  EXPECT_EQ(selector.not_allowed(), 8u);
  EXPECT_EQ(selector.excluded_hits(), 1u);
  const std::vector<ScoredIndex> got = selector.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].index, 1u);
}


TEST(MergeBestFirstTest, EqualsOneSelectionOverBothLists) {
  std::mt19937 rng(21);
  // Few score levels: ties across the two lists decide by index.
  std::uniform_int_distribution<int> level(0, 20);
  std::bernoulli_distribution first_list(0.5);
  std::vector<ScoredIndex> all, a_pushed, b_pushed;
  for (uint32_t i = 0; i < 3000; ++i) {
    const ScoredIndex c{i, 0.5f * level(rng)};
    all.push_back(c);
    (first_list(rng) ? a_pushed : b_pushed).push_back(c);
  }
  ExclusionSet none;
  for (size_t k : {0, 1, 10, 420, 2000, 4000}) {
    SCOPED_TRACE(testing::Message() << "k=" << k);
    const std::vector<ScoredIndex> a = SortedTopK(a_pushed, k, none, nullptr, nullptr);
    const std::vector<ScoredIndex> b = SortedTopK(b_pushed, k, none, nullptr, nullptr);
    ExpectSame(MergeBestFirst(a, b, k), SortedTopK(all, k, none, nullptr, nullptr));
    ExpectSame(MergeBestFirst(b, a, k), SortedTopK(all, k, none, nullptr, nullptr));
    ExpectSame(MergeBestFirst({}, b, k), b);
  }
}

TEST(ExclusionSetTest, ContainsExactlyItsIndices) {
  // Sizes below and far above the filter's 1,024 bits.
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any(0, 200000);
  for (size_t size : {0, 1, 25, 5000}) {
    std::vector<uint32_t> indices;
    for (size_t i = 0; i < size; ++i) indices.push_back(any(rng));
    indices.push_back(0xFFFFFFFFu);
    const ExclusionSet set(indices);
    const std::set<uint32_t> want(indices.begin(), indices.end());
    EXPECT_EQ(set.size(), want.size());
    for (uint32_t i = 0; i <= 200000; ++i) {
      ASSERT_EQ(set.Contains(i), want.count(i) == 1) << "index " << i << " size " << size;
    }
    EXPECT_TRUE(set.Contains(0xFFFFFFFFu));
  }
}

}  // namespace
}  // namespace affinity::server
