#include "trainer/data/id_interner.h"

#include <utility>

namespace affinity {

std::optional<uint32_t> IdInterner::Find(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> IdInterner::TakeIds() {
  std::vector<std::string> ids(index_.size());
  // Erasing from a flat_hash_map leaves other iterators valid.
  for (auto it = index_.begin(); it != index_.end();) {
    auto node = index_.extract(it++);
    ids[node.mapped()] = std::move(node.key());
  }
  index_ = {};
  return ids;
}

}  // namespace affinity
