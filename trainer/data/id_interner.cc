#include "trainer/data/id_interner.h"

#include <algorithm>
#include <cstring>

namespace affinity {
namespace {
constexpr size_t kArenaBlockBytes = 256 << 10;
}  // namespace

std::optional<uint32_t> IdInterner::Find(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
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

uint32_t IdInterner::Insert(absl::string_view id) {
  if (ids_.size() >= kMaxIds) return kFull;
  const uint32_t next = static_cast<uint32_t>(ids_.size());
  const absl::string_view stored = Store(id);
  index_.emplace(stored, next);
  ids_.push_back(stored);
  return next;
}

std::vector<std::string> IdInterner::TakeIds() {
  std::vector<std::string> ids;
  ids.reserve(ids_.size());
  for (const absl::string_view id : ids_) ids.emplace_back(id);
  index_ = {};
  ids_ = {};
  arena_.clear();
  arena_.shrink_to_fit();
  arena_left_ = 0;
  arena_next_ = nullptr;
  return ids;
}

}  // namespace affinity
