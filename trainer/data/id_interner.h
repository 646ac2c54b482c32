// Maps arbitrary string ids to dense uint32 indices 0, 1, 2, ... in the
// order they are first seen, and back.
//
// Contract:
//  - Intern(id) returns the same index for equal ids and the next unused
//    index for a new id; lookups take a string_view and allocate only when a
//    new id is stored.
//  - At most kMaxIds ids are held; Intern returns kFull for a new id beyond
//    that and stores nothing.
//  - Memory: the id bytes, a hash table entry per id, and for ids that are
//    small decimal numbers a table of 4 bytes per value up to the largest
//    such id (at most 16 MiB).
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
    uint32_t value;
    if (SmallNumber(id, &value)) {
      if (value < by_number_.size() && by_number_[value] != kFull) {
        return by_number_[value];
      }
      return InsertNumber(id, value);
    }
    auto it = by_text_.find(id);
    if (it != by_text_.end()) return it->second;
    return InsertText(id);
  }

  std::optional<uint32_t> Find(absl::string_view id) const;
  size_t size() const { return ids_.size(); }
  absl::string_view id(uint32_t index) const { return ids_[index]; }

  // The ids in index order. Leaves the interner empty.
  std::vector<std::string> TakeIds();

 private:
  // Ids that are canonical decimal numbers below kNumberLimit ("0", "17",
  // not "017" or "+17") are found through a table indexed by their value,
  // which is much faster than hashing; every other id goes through by_text_.
  // Canonical spelling makes the two paths disjoint.
  static constexpr uint32_t kNumberLimit = uint32_t{1} << 22;
  static bool SmallNumber(absl::string_view id, uint32_t* value) {
    if (id.empty() || id.size() > 7 || (id[0] == '0' && id.size() > 1)) {
      return false;
    }
    uint32_t v = 0;
    for (const char c : id) {
      const uint32_t d = static_cast<uint32_t>(c - '0');
      if (d > 9) return false;
      v = v * 10 + d;
    }
    *value = v;
    return v < kNumberLimit;
  }
  uint32_t InsertNumber(absl::string_view id, uint32_t value);
  uint32_t InsertText(absl::string_view id);
  uint32_t Append(absl::string_view id);  // kFull when full
  absl::string_view Store(absl::string_view id);

  std::vector<uint32_t> by_number_;  // value -> index, kFull if unseen
  // Keys view id bytes kept in arena_ blocks, which never move.
  absl::flat_hash_map<absl::string_view, uint32_t> by_text_;
  std::vector<absl::string_view> ids_;
  std::vector<std::unique_ptr<char[]>> arena_;
  size_t arena_left_ = 0;
  char* arena_next_ = nullptr;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_ID_INTERNER_H_
