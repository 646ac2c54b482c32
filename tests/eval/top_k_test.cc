#include "trainer/eval/top_k.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity {
namespace eval {
namespace {

using ::testing::ElementsAre;

// Best-first order by full sort: higher score, then lower index; NaN and
// excluded items left out.
std::vector<uint32_t> SortReference(const std::vector<float>& scores,
                                    const std::vector<uint32_t>& excluded,
                                    int k) {
  std::vector<uint32_t> items;
  for (uint32_t i = 0; i < scores.size(); ++i) {
    if (!std::isnan(scores[i]) &&
        !std::binary_search(excluded.begin(), excluded.end(), i)) {
      items.push_back(i);
    }
  }
  std::sort(items.begin(), items.end(), [&](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  if (static_cast<int>(items.size()) > k) items.resize(k);
  return items;
}

TEST(TopKSelectorTest, KeepsBestItemsBestFirst) {
  TopKSelector top(3);
  const std::vector<float> scores = {0.5f, 2.0f, -1.0f, 3.0f, 1.0f};
  for (uint32_t i = 0; i < scores.size(); ++i) top.Offer(i, scores[i]);
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(3, 1, 4));
}

TEST(TopKSelectorTest, TiesGoToLowerIndexWhateverTheOfferOrder) {
  TopKSelector top(2);
  // Items 4, 2, 7 and 1 tie; offered in descending index order.
  top.Offer(7, 1.0f);
  top.Offer(4, 1.0f);
  top.Offer(2, 1.0f);
  top.Offer(1, 1.0f);
  top.Offer(0, 0.5f);
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(1, 2));
}

TEST(TopKSelectorTest, NanScoresAreNeverSelected) {
  TopKSelector top(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> scores = {nan, 1.0f, nan, -2.0f, nan};
  absl::Span<const uint32_t> none;
  top.OfferRange(scores, 0, &none);
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(1, 3));
}

TEST(TopKSelectorTest, FewerCandidatesThanKGivesShortList) {
  TopKSelector top(5);
  const std::vector<float> scores = {1.0f, 2.0f, 3.0f};
  const std::vector<uint32_t> excluded = {2};
  absl::Span<const uint32_t> remaining(excluded);
  top.OfferRange(scores, 0, &remaining);
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(1, 0));
}

TEST(TopKSelectorTest, ExcludedItemsAreSkippedAcrossConsecutiveRanges) {
  // Scores rise with the index, so without exclusion the best would be
  // 9, 8, 7; excluding 9 and 7 (in the second range) and 1 (in the first)
  // leaves 8, 6, 5.
  std::vector<float> scores(10);
  std::iota(scores.begin(), scores.end(), 0.0f);
  const std::vector<uint32_t> excluded = {1, 7, 9};
  absl::Span<const uint32_t> remaining(excluded);
  TopKSelector top(3);
  top.OfferRange(absl::MakeConstSpan(scores).subspan(0, 4), 0, &remaining);
  EXPECT_THAT(remaining, ElementsAre(7, 9));
  top.OfferRange(absl::MakeConstSpan(scores).subspan(4, 6), 4, &remaining);
  EXPECT_TRUE(remaining.empty());
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(8, 6, 5));
}

TEST(TopKSelectorTest, MatchesFullSortOnRandomScoresWithTies) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> level(0, 20);
  std::bernoulli_distribution drop(0.2);
  std::bernoulli_distribution not_a_number(0.05);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial * 3;
    std::vector<float> scores(n);
    // Few distinct values, so ties are common; some NaN.
    for (float& s : scores) {
      s = not_a_number(rng) ? std::numeric_limits<float>::quiet_NaN()
                            : static_cast<float>(level(rng));
    }
    std::vector<uint32_t> excluded;
    for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
      if (drop(rng)) excluded.push_back(i);
    }
    const int k = 1 + trial % 17;
    // Offer in ranges of varying width, narrower and wider than the
    // selector's 16-score chunks.
    TopKSelector top(k);
    absl::Span<const uint32_t> remaining(excluded);
    const int width = 1 + (trial * 7) % 120;
    for (int first = 0; first < n; first += width) {
      const int count = std::min(width, n - first);
      top.OfferRange(absl::MakeConstSpan(scores).subspan(first, count),
                     static_cast<uint32_t>(first), &remaining);
    }
    std::vector<uint32_t> items;
    top.SortedItems(&items);
    EXPECT_EQ(items, SortReference(scores, excluded, k)) << "trial " << trial;
  }
}

TEST(TopKSelectorTest, ClearForgetsOfferedItems) {
  TopKSelector top(2);
  top.Offer(0, 5.0f);
  top.Offer(1, 6.0f);
  top.Clear();
  EXPECT_EQ(top.size(), 0);
  top.Offer(2, 1.0f);
  std::vector<uint32_t> items;
  top.SortedItems(&items);
  EXPECT_THAT(items, ElementsAre(2));
}

}  // namespace
}  // namespace eval
}  // namespace affinity
