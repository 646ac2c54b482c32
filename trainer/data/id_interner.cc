#include "trainer/data/id_interner.h"

#include <algorithm>
#include <cstring>

namespace affinity {
namespace {
constexpr size_t kArenaBlockBytes = 256 << 10;
}  // namespace

std::optional<uint32_t> IdInterner::Find(absl::string_view id) const {
  uint32_t value;
  if (SmallNumber(id, &value)) {
    if (value < by_number_.size() && by_number_[value] != kFull) {
      return by_number_[value];
    }
    return std::nullopt;
  }
  auto it = by_text_.find(id);
  if (it == by_text_.end()) return std::nullopt;
  return it->second;
}

absl::string_view IdInterner::Store(absl::string_view id) {
  if (id.size() > arena_left_) {
    const size_t bytes = std::max(kArenaBlockBytes, id.size());
    arena_.emplace_back(new char[bytes]);
    arena_next_ = arena_.back().get();
    arena_left_ = bytes;
  }
  char* stored = arena_next_;
  if (!id.empty()) std::memcpy(stored, id.data(), id.size());
  arena_next_ += id.size();
  arena_left_ -= id.size();
  return absl::string_view(stored, id.size());
}

uint32_t IdInterner::Append(absl::string_view id) {
  if (ids_.size() >= kMaxIds) return kFull;
  ids_.push_back(Store(id));
  return static_cast<uint32_t>(ids_.size() - 1);
}

uint32_t IdInterner::InsertNumber(absl::string_view id, uint32_t value) {
  const uint32_t index = Append(id);
  if (index == kFull) return kFull;
  if (value >= by_number_.size()) {
    const size_t grown = std::max<size_t>(value + 1, 2 * by_number_.size());
    by_number_.resize(std::min<size_t>(grown, kNumberLimit), kFull);
  }
  by_number_[value] = index;
  return index;
}

uint32_t IdInterner::InsertText(absl::string_view id) {
  const uint32_t index = Append(id);
  if (index == kFull) return kFull;
  by_text_.emplace(ids_.back(), index);
  return index;
}

std::vector<std::string> IdInterner::TakeIds() {
  std::vector<std::string> ids;
  ids.reserve(ids_.size());
  for (const absl::string_view id : ids_) ids.emplace_back(id);
  by_number_ = {};
  by_text_ = {};
  ids_ = {};
  arena_.clear();
  arena_.shrink_to_fit();
  arena_left_ = 0;
  arena_next_ = nullptr;
  return ids;
}

}  // namespace affinity
