// Bounded top-k selection that skips excluded items while selecting, so a
// caller always gets min(k, candidates - excluded) results: never "top-k,
// then filter" (which returns short lists).
#ifndef AFFINITY_SERVER_TOP_K_H_
#define AFFINITY_SERVER_TOP_K_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace affinity::server {

struct ScoredIndex {
  uint32_t index = 0;
  float score = 0;
};

// Item indices never to return. Immutable once built; cheap membership test.
class ExclusionSet {
 public:
  ExclusionSet() = default;
  // Any order, duplicates allowed.
  explicit ExclusionSet(std::vector<uint32_t> indices);
  bool Contains(uint32_t index) const;
  size_t size() const { return sorted_.size(); }
  const std::vector<uint32_t>& sorted() const { return sorted_; }

 private:
  std::vector<uint32_t> sorted_;
};

// Keeps the k best (score, index) pairs pushed so far; ties favour the lower
// index. Excluded indices are looked up only for candidates that would enter
// the heap, so the common case costs one comparison per item.
class TopKHeap {
 public:
  TopKHeap(size_t k, const ExclusionSet* excluded);

  // Score below which a candidate cannot enter (-inf until k are held).
  float threshold() const { return threshold_; }

  void Push(uint32_t index, float score) {
    if (score < threshold_) return;
    PushSlow(index, score);
  }
  // Pushes scores[i] for index first + i.
  void PushBlock(uint32_t first, const float* scores, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (scores[i] >= threshold_) PushSlow(first + static_cast<uint32_t>(i), scores[i]);
    }
  }

  // Best first. Leaves the heap empty.
  std::vector<ScoredIndex> Take();

 private:
  void PushSlow(uint32_t index, float score);
  size_t k_;
  const ExclusionSet* excluded_;
  std::vector<ScoredIndex> heap_;  // min-heap: worst at front
  float threshold_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_TOP_K_H_
