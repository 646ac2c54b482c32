#include "server/scoring/top_k.h"

#include <algorithm>
#include <limits>

#include "server/scoring/dot_kernels.h"

namespace affinity::server {
namespace {

// True when a ranks strictly better than b (a type, so that std::sort and
// std::nth_element inline it).
struct BetterFirst {
  bool operator()(const ScoredIndex& a, const ScoredIndex& b) const {
    if (a.score != b.score) return a.score > b.score;
    return a.index < b.index;
  }
};
constexpr BetterFirst Better;

}  // namespace

ExclusionSet::ExclusionSet(std::vector<uint32_t> indices)
    : sorted_(std::move(indices)) {
  std::sort(sorted_.begin(), sorted_.end());
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
  for (uint32_t index : sorted_) {
    const uint32_t bit = FilterBit(index);
    filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool ExclusionSet::ContainsSorted(uint32_t index) const {
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

TopKSelector::TopKSelector(size_t k, const ExclusionSet* excluded, const ItemBitmap* allowed,
                           const ItemPredicate* also_allowed)
    : k_(k),
      excluded_(excluded),
      allowed_(allowed),
      also_allowed_(also_allowed),
      threshold_(k == 0 ? std::numeric_limits<float>::infinity()
                        : -std::numeric_limits<float>::infinity()) {}

template <bool kTestAllowed>
void TopKSelector::Admit(uint32_t index, float score) {
  if (k_ == 0 || score != score) return;  // NaN never ranks
  const ScoredIndex candidate{index, score};
  if (full_ && !Better(candidate, worst_)) return;
  if ((kTestAllowed && allowed_ != nullptr && !allowed_->Contains(index)) ||
      (also_allowed_ != nullptr && !also_allowed_->Allows(index))) {
    ++not_allowed_;
    return;
  }
  if (excluded_ != nullptr && excluded_->Contains(index)) {
    ++excluded_hits_;
    return;
  }
  if (buffer_.empty()) buffer_.reserve(2 * k_);
  buffer_.push_back(candidate);
  if (buffer_.size() == 2 * k_) Compact();
}

template void TopKSelector::Admit<true>(uint32_t index, float score);
template void TopKSelector::Admit<false>(uint32_t index, float score);

void TopKSelector::PushBlock(uint32_t first, const float* scores, size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    const uint64_t candidates = AtOrAboveMask(scores + i, std::min<size_t>(64, n - i), threshold_);
    if (candidates != 0) {
      PushCandidates(first + static_cast<uint32_t>(i), candidates,
                     [&](int j) { return scores[i + j]; });
    }
  }
}

void TopKSelector::Compact() {
  if (buffer_.size() < k_) return;
  std::nth_element(buffer_.begin(), buffer_.begin() + (k_ - 1), buffer_.end(), Better);
  buffer_.resize(k_);
  worst_ = buffer_.back();
  full_ = true;
  threshold_ = worst_.score;
}

std::vector<ScoredIndex> TopKSelector::Take() {
  if (buffer_.size() > k_) Compact();
  std::vector<ScoredIndex> out = std::move(buffer_);
  buffer_.clear();
  std::sort(out.begin(), out.end(), Better);
  full_ = false;
  threshold_ = k_ == 0 ? std::numeric_limits<float>::infinity()
                       : -std::numeric_limits<float>::infinity();
  return out;
}

std::vector<ScoredIndex> MergeBestFirst(const std::vector<ScoredIndex>& a,
                                        const std::vector<ScoredIndex>& b, size_t k) {
  std::vector<ScoredIndex> out;
  out.reserve(std::min(k, a.size() + b.size()));
  size_t i = 0, j = 0;
  while (out.size() < k && (i < a.size() || j < b.size())) {
    const bool take_a = j == b.size() || (i < a.size() && Better(a[i], b[j]));
    out.push_back(take_a ? a[i++] : b[j++]);
  }
  return out;
}

}  // namespace affinity::server
