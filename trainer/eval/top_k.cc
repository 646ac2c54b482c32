#include "trainer/eval/top_k.h"

#include <algorithm>
#include <cmath>

namespace affinity {
namespace eval {

TopKSelector::TopKSelector(int k) : k_(k) { heap_.reserve(k); }

void TopKSelector::Push(Entry e) {
  if (static_cast<int>(heap_.size()) < k_) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), RanksAbove());
    return;
  }
  if (!Better(e, heap_.front())) return;
  std::pop_heap(heap_.begin(), heap_.end(), RanksAbove());
  heap_.back() = e;
  std::push_heap(heap_.begin(), heap_.end(), RanksAbove());
}

void TopKSelector::Offer(uint32_t item, float score) {
  if (std::isnan(score)) return;
  Push(Entry{score, item});
}

void TopKSelector::OfferSpan(const float* scores, uint32_t first_item,
                             uint32_t count) {
  uint32_t i = 0;
  // Fill phase: every non-NaN score is taken until k are held.
  while (i < count && static_cast<int>(heap_.size()) < k_) {
    Offer(first_item + i, scores[i]);
    ++i;
  }
  if (i == count) return;
  // Steady phase: only scores reaching the current worst can enter. NaN
  // fails the comparison and is skipped. Most chunks hold no such score and
  // are dismissed by one vectorizable test.
  constexpr uint32_t kChunk = 16;
  float threshold = heap_.front().score;
  for (; i + kChunk <= count; i += kChunk) {
    const float* chunk = scores + i;
    // An int accumulator (not bool) lets the compiler vectorize the test.
    int any = 0;
    for (uint32_t j = 0; j < kChunk; ++j) any |= chunk[j] >= threshold;
    if (!any) continue;
    for (uint32_t j = 0; j < kChunk; ++j) {
      if (chunk[j] >= threshold) {
        Push(Entry{chunk[j], first_item + i + j});
        threshold = heap_.front().score;
      }
    }
  }
  for (; i < count; ++i) {
    if (scores[i] >= threshold) {
      Push(Entry{scores[i], first_item + i});
      threshold = heap_.front().score;
    }
  }
}

void TopKSelector::OfferRange(absl::Span<const float> scores,
                              uint32_t first_item,
                              absl::Span<const uint32_t>* excluded) {
  const uint64_t end = uint64_t{first_item} + scores.size();
  while (!excluded->empty() && excluded->front() < first_item) {
    excluded->remove_prefix(1);
  }
  uint32_t next = first_item;
  while (!excluded->empty() && excluded->front() < end) {
    const uint32_t skip = excluded->front();
    OfferSpan(scores.data() + (next - first_item), next, skip - next);
    next = skip + 1;
    excluded->remove_prefix(1);
  }
  OfferSpan(scores.data() + (next - first_item), next,
            static_cast<uint32_t>(end - next));
}

void TopKSelector::SortedItems(std::vector<uint32_t>* items) const {
  std::vector<Entry> sorted = heap_;
  std::sort(sorted.begin(), sorted.end(), RanksAbove());
  items->resize(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) (*items)[i] = sorted[i].item;
}

}  // namespace eval
}  // namespace affinity
