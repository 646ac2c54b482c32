#include "server/scoring/top_k.h"

#include <algorithm>
#include <limits>

namespace affinity::server {
namespace {

// True when a ranks strictly better than b.
inline bool Better(const ScoredIndex& a, const ScoredIndex& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.index < b.index;
}

// Heap comparator putting the worst element at the front.
struct WorstFirst {
  bool operator()(const ScoredIndex& a, const ScoredIndex& b) const {
    return Better(a, b);
  }
};

}  // namespace

ExclusionSet::ExclusionSet(std::vector<uint32_t> indices)
    : sorted_(std::move(indices)) {
  std::sort(sorted_.begin(), sorted_.end());
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
}

bool ExclusionSet::Contains(uint32_t index) const {
  return std::binary_search(sorted_.begin(), sorted_.end(), index);
}

std::vector<uint32_t> ItemBitmap::Indices() const {
  std::vector<uint32_t> out;
  out.reserve(count_);
  for (size_t w = 0; w < words_.size(); ++w) {
    uint64_t bits = words_[w];
    while (bits != 0) {
      out.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits)));
      bits &= bits - 1;
    }
  }
  return out;
}

TopKHeap::TopKHeap(size_t k, const ExclusionSet* excluded, const ItemBitmap* allowed,
                   const ItemPredicate* also_allowed)
    : k_(k),
      excluded_(excluded),
      allowed_(allowed),
      also_allowed_(also_allowed),
      threshold_(k == 0 ? std::numeric_limits<float>::infinity()
                        : -std::numeric_limits<float>::infinity()) {
  heap_.reserve(k);
}

void TopKHeap::PushSlow(uint32_t index, float score) {
  if (k_ == 0 || score != score) return;  // NaN never ranks
  const ScoredIndex candidate{index, score};
  if (heap_.size() == k_ && !Better(candidate, heap_.front())) return;
  if ((allowed_ != nullptr && !allowed_->Contains(index)) ||
      (also_allowed_ != nullptr && !also_allowed_->Allows(index))) {
    ++not_allowed_;
    return;
  }
  if (excluded_ != nullptr && excluded_->Contains(index)) {
    ++excluded_hits_;
    return;
  }
  if (heap_.size() < k_) {
    heap_.push_back(candidate);
    std::push_heap(heap_.begin(), heap_.end(), WorstFirst());
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), WorstFirst());
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end(), WorstFirst());
  }
  if (heap_.size() == k_) threshold_ = heap_.front().score;
}

std::vector<ScoredIndex> TopKHeap::Take() {
  std::vector<ScoredIndex> out = std::move(heap_);
  heap_.clear();
  std::sort(out.begin(), out.end(), Better);
  threshold_ = k_ == 0 ? std::numeric_limits<float>::infinity()
                       : -std::numeric_limits<float>::infinity();
  return out;
}

}  // namespace affinity::server
