// Maps arbitrary string ids to dense uint32 indices 0, 1, 2, ... in the
// order they are first seen, and back.
//
// Contract:
//  - Intern(id) returns the same index for equal ids and the next unused
//    index for a new id; lookups take a string_view and allocate only when a
//    new id is stored.
//  - At most kMaxIds ids are held; Intern returns kFull for a new id beyond
//    that and stores nothing.
#ifndef AFFINITY_TRAINER_DATA_ID_INTERNER_H_
#define AFFINITY_TRAINER_DATA_ID_INTERNER_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace affinity {

class IdInterner {
 public:
  static constexpr uint32_t kFull = std::numeric_limits<uint32_t>::max();
  static constexpr size_t kMaxIds = kFull;

  uint32_t Intern(absl::string_view id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    if (index_.size() >= kMaxIds) return kFull;
    const uint32_t next = static_cast<uint32_t>(index_.size());
    index_.emplace(std::string(id), next);
    return next;
  }

  std::optional<uint32_t> Find(absl::string_view id) const;
  size_t size() const { return index_.size(); }

  // The ids in index order. Leaves the interner empty.
  std::vector<std::string> TakeIds();

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_ID_INTERNER_H_
