// Bounded selection of the k best-scored items. An item ranks above another
// when its score is higher, or the scores are equal and its index is lower,
// so the selection is a pure function of the scores (no dependence on the
// order in which items are offered). Items scored NaN are never selected.
#ifndef AFFINITY_TRAINER_EVAL_TOP_K_H_
#define AFFINITY_TRAINER_EVAL_TOP_K_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace affinity {
namespace eval {

class TopKSelector {
 public:
  // k >= 1.
  explicit TopKSelector(int k);

  int k() const { return k_; }
  int size() const { return static_cast<int>(heap_.size()); }

  // Forgets every offered item; keeps the allocation.
  void Clear() { heap_.clear(); }

  void Offer(uint32_t item, float score);

  // Offers scores[i] for item first_item + i, i in [0, scores.size()), except
  // the items listed in *excluded. *excluded must be sorted ascending; its
  // leading entries below first_item are skipped and the entries consumed by
  // this range are dropped from the front, so one span can be carried across
  // consecutive ranges of the same row.
  void OfferRange(absl::Span<const float> scores, uint32_t first_item,
                  absl::Span<const uint32_t>* excluded);

  // Writes the selected items, best first, to *items (resized to size()).
  void SortedItems(std::vector<uint32_t>* items) const;

 private:
  struct Entry {
    float score;
    uint32_t item;
  };
  // True when a ranks strictly above b.
  static bool Better(const Entry& a, const Entry& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  }
  // Better() as a comparator object for the std heap and sort functions:
  // with it the heap's front is the worst entry and a sort puts the best
  // first.
  struct RanksAbove {
    bool operator()(const Entry& a, const Entry& b) const {
      return Better(a, b);
    }
  };
  void Push(Entry e);
  void OfferSpan(const float* scores, uint32_t first_item, uint32_t count);

  int k_;
  // Heap ordered so that heap_.front() is the worst selected entry.
  std::vector<Entry> heap_;
};

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_TOP_K_H_
