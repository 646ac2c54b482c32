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
#include <memory>
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

  IdInterner() = default;
  IdInterner(const IdInterner&) = delete;
  IdInterner& operator=(const IdInterner&) = delete;

  uint32_t Intern(absl::string_view id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    return Insert(id);
  }

  std::optional<uint32_t> Find(absl::string_view id) const;
  size_t size() const { return ids_.size(); }
  absl::string_view id(uint32_t index) const { return ids_[index]; }

  // The ids in index order. Leaves the interner empty.
  std::vector<std::string> TakeIds();

 private:
  uint32_t Insert(absl::string_view id);
  absl::string_view Store(absl::string_view id);

  // Keys view id bytes kept in arena_ blocks, which never move.
  absl::flat_hash_map<absl::string_view, uint32_t> index_;
  std::vector<absl::string_view> ids_;
  std::vector<std::unique_ptr<char[]>> arena_;
  size_t arena_left_ = 0;
  char* arena_next_ = nullptr;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_ID_INTERNER_H_
