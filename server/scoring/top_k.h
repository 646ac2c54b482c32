// Bounded top-k selection that skips excluded items while selecting, so a
// caller always gets min(k, candidates - excluded) results: never "top-k,
// then filter" (which returns short lists).
#ifndef AFFINITY_SERVER_SCORING_TOP_K_H_
#define AFFINITY_SERVER_SCORING_TOP_K_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace affinity::server {

struct ScoredIndex {
  uint32_t index = 0;
  float score = 0;
};

// Item indices never to return. Immutable once built; cheap membership test:
// a 1,024-bit filter of hashed indices answers most misses with one bit
// test, the rest is a binary search.
class ExclusionSet {
 public:
  ExclusionSet() = default;
  // Any order, duplicates allowed.
  explicit ExclusionSet(std::vector<uint32_t> indices);
  bool Contains(uint32_t index) const {
    const uint32_t bit = FilterBit(index);
    if (((filter_[bit >> 6] >> (bit & 63)) & 1) == 0) return false;
    return ContainsSorted(index);
  }
  size_t size() const { return sorted_.size(); }
  const std::vector<uint32_t>& sorted() const { return sorted_; }

 private:
  static uint32_t FilterBit(uint32_t index) { return (index * 0x9E3779B1u) >> 22; }
  bool ContainsSorted(uint32_t index) const;
  std::vector<uint32_t> sorted_;
  std::array<uint64_t, 16> filter_{};
};

// Item indices a rule set allows (a bitmap over the model's items).
// Immutable once built; Contains is one load and a bit test.
class ItemBitmap {
 public:
  ItemBitmap() = default;
  explicit ItemBitmap(size_t items) : items_(items), words_((items + 63) / 64, 0) {}
  void Set(uint32_t index) {
    uint64_t& w = words_[index >> 6];
    const uint64_t bit = uint64_t{1} << (index & 63);
    count_ += (w & bit) == 0;
    w |= bit;
  }
  void Clear(uint32_t index) {
    uint64_t& w = words_[index >> 6];
    const uint64_t bit = uint64_t{1} << (index & 63);
    count_ -= (w & bit) != 0;
    w &= ~bit;
  }
  bool Contains(uint32_t index) const {
    return index < items_ && ((words_[index >> 6] >> (index & 63)) & 1) != 0;
  }
  // Bits of indices 64 * w .. 64 * w + 63 (bit j: index 64 * w + j); 0 past the end.
  uint64_t Word(size_t w) const { return w < words_.size() ? words_[w] : 0; }
  size_t items() const { return items_; }
  // Number of allowed indices.
  size_t count() const { return count_; }
  // The allowed indices, ascending.
  std::vector<uint32_t> Indices() const;
  // Calls fn(index) for each allowed index, ascending, without allocating.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t w = 0; w < words_.size(); ++w) {
      for (uint64_t bits = words_[w]; bits != 0; bits &= bits - 1) {
        fn(static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits)));
      }
    }
  }

 private:
  size_t items_ = 0;
  size_t count_ = 0;
  std::vector<uint64_t> words_;
};

// A further condition on the items a query may return (a request's own
// filters), tested like an ItemBitmap only for candidates that would enter
// the top k, so its cost follows the candidates, not the catalog.
// Implementations are immutable and safe to call from many threads.
class ItemPredicate {
 public:
  virtual ~ItemPredicate() = default;
  virtual bool Allows(uint32_t index) const = 0;
};

// Keeps the k best (score, index) pairs pushed so far; ties favour the lower
// index. Excluded indices are looked up only for candidates that could
// enter, so the common case costs one comparison per item.
//
// Candidates at or above threshold() are appended to a buffer of 2k; when
// it fills, the k best are selected in place (std::nth_element) and the
// threshold rises to the k-th best score. Each accepted candidate costs O(1)
// amortised, whatever k: a bounded heap pays log k per candidate, which
// dominates a scan keeping hundreds of candidates (the int8 scorer keeps
// 4 x 210 for the homepage rules). Not thread-safe; one per query and scan
// range.
class TopKSelector {
 public:
  // `allowed` and `also_allowed` (each may be null: everything allowed) are
  // tested, like `excluded`, only for candidates that could enter.
  TopKSelector(size_t k, const ExclusionSet* excluded, const ItemBitmap* allowed = nullptr,
               const ItemPredicate* also_allowed = nullptr);

  // Score below which a candidate cannot enter (-inf until k are held; it
  // rises each time the buffer is compacted, so it may trail the k-th best
  // score pushed so far).
  float threshold() const { return threshold_; }
  // Raises the threshold to `floor` (if lower): scores below it are dropped
  // from now on. A caller that knows at least k allowed items score at or
  // above `floor` loses nothing by it; Take() resets it.
  void RaiseThreshold(float floor) {
    if (floor > threshold_) threshold_ = floor;
  }

  void Push(uint32_t index, float score) {
    if (score < threshold_) return;
    PushSlow(index, score);
  }
  // Pushes scores[i] for index first + i: the same selection as n Push
  // calls, found 64 scores at a time (a vector compare against the
  // threshold, AND the allowed bitmap's word when `first` is a multiple of
  // 64), so only candidates that can enter cost a branch.
  void PushBlock(uint32_t first, const float* scores, size_t n);
  // Pushes score_of(i) for index first + i, for each i in [0, n) whose bit
  // i % 64 of masks[i / 64] is set (the rows a kernel found at or above the
  // threshold it was given; score_of is called only for them).
  // With `index_of` (may be null: the identity), the row first + i stands
  // for item index_of[first + i] (a compact copy of some items' rows, in
  // ascending item order); the allowed bitmap is then tested per item.
  template <typename ScoreOf>
  void PushMasked(uint32_t first, const uint64_t* masks, size_t n, ScoreOf score_of,
                  const uint32_t* index_of = nullptr) {
    for (size_t w = 0; w * 64 < n; ++w) {
      if (masks[w] != 0) {
        PushCandidates(first + static_cast<uint32_t>(w * 64), masks[w],
                       [&](int j) { return score_of(w * 64 + j); }, index_of);
      }
    }
  }

  // True once k candidates are held (k allowed, not excluded items pushed).
  bool HasK() const { return buffer_.size() >= k_; }
  // Candidates at or above the threshold that were not allowed / were
  // excluded (what the rules dropped from this answer).
  uint64_t not_allowed() const { return not_allowed_; }
  uint64_t excluded_hits() const { return excluded_hits_; }

  // Best first. Leaves the selector empty.
  std::vector<ScoredIndex> Take();

 private:
  void PushSlow(uint32_t index, float score) { Admit<true>(index, score); }
  // Pushes score_of(j) for index base + j (index_of[base + j] with
  // index_of), for each bit j of `candidates`: ANDed with the allowed
  // bitmap's word first when base is a multiple of 64 and rows are items.
  template <typename ScoreOf>
  void PushCandidates(uint32_t base, uint64_t candidates, ScoreOf score_of,
                      const uint32_t* index_of = nullptr) {
    const bool by_word = allowed_ != nullptr && base % 64 == 0 && index_of == nullptr;
    if (by_word) {
      const uint64_t allowed = allowed_->Word(base / 64);
      not_allowed_ += static_cast<uint64_t>(__builtin_popcountll(candidates & ~allowed));
      candidates &= allowed;
    }
    for (; candidates != 0; candidates &= candidates - 1) {
      const int j = __builtin_ctzll(candidates);
      const float score = score_of(j);
      if (score < threshold_) continue;  // the threshold rose since the mask was made
      if (by_word) {
        Admit<false>(base + j, score);
      } else {
        Admit<true>(index_of == nullptr ? base + j : index_of[base + j], score);
      }
    }
  }
  // Enters a candidate at or above the threshold unless it is excluded or
  // (when kTestAllowed; the caller tested the bitmap otherwise) not allowed.
  template <bool kTestAllowed>
  void Admit(uint32_t index, float score);
  // Keeps the k best of the buffer and raises the threshold to the worst of them.
  void Compact();
  size_t k_;
  const ExclusionSet* excluded_;
  const ItemBitmap* allowed_;
  const ItemPredicate* also_allowed_;
  uint64_t not_allowed_ = 0;
  uint64_t excluded_hits_ = 0;
  std::vector<ScoredIndex> buffer_;  // unordered; at most 2k
  bool full_ = false;                // k held since the last Compact: worst_ is the k-th best
  ScoredIndex worst_;
  float threshold_;
};

// The k best of two lists that are each best first (as Take returns them),
// best first: ties to the lower index, as one selection over both would
// rank them. Indices must not repeat across the lists. Linear in the output.
std::vector<ScoredIndex> MergeBestFirst(const std::vector<ScoredIndex>& a,
                                        const std::vector<ScoredIndex>& b, size_t k);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_TOP_K_H_
