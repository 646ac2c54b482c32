// The rule stages that reorder or complete a ranked list, each a pure
// function over RankedItems so it can be tested alone. They run in this
// order (filter and exclude happen while scoring, see rule_pipeline.h):
//   boost -> diversity -> pin -> fallback.
#ifndef AFFINITY_SERVER_RULES_RULE_STAGES_H_
#define AFFINITY_SERVER_RULES_RULE_STAGES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "affinity/v1/model.pb.h"
#include "server/rules/compiled_rules.h"

namespace affinity::server::rules {

struct RankedItem {
  std::string item_id;
  std::optional<uint32_t> index;  // model item index; unset: catalog-only item
  const affinity::v1::CatalogItem* catalog = nullptr;  // null: not in the catalog
  float score = 0;
  bool pinned = false;
  bool from_fallback = false;
  // What the stages did to the item (filled when explaining).
  std::vector<std::string> notes;
};

// Applies every matching boost in order, then re-sorts by score (stable).
// Returns how many items were boosted.
size_t ApplyBoosts(const std::vector<CompiledBoost>& boosts, int64_t now_unix, bool explain,
                   std::vector<RankedItem>* items);

// Counts, per diversity cap, the items placed so far in the cap's window,
// so testing whether one more item fits costs one hash lookup per value.
class DiversityCounter {
 public:
  explicit DiversityCounter(const std::vector<CompiledDiversity>& caps);
  // True when `item` may take the next position without breaking a cap.
  bool Fits(const RankedItem& item) const;
  // Places `item` at the next position.
  void Add(const RankedItem& item);
  size_t placed() const { return placed_; }

 private:
  const std::vector<CompiledDiversity>& caps_;
  std::vector<absl::flat_hash_map<std::string, int>> counts_;  // per cap
  size_t placed_ = 0;
};

// Keeps the list order but moves items that would break a cap within its
// window (`top` slots, 0 = the first k) to the first position after the
// window where they fit, or drops them. Returns at most k items; `dropped`
// receives how many candidates were left out for breaking a cap.
std::vector<RankedItem> ApplyDiversity(const std::vector<CompiledDiversity>& caps, size_t k,
                                       std::vector<RankedItem> items, size_t* dropped);

// Inserts each pin at its slot (1-based, clamped to the list's end); an
// item already in the list moves there. `resolve` returns the pin's item
// when it may be shown (known, passes the filters, not excluded), nullopt
// otherwise. Returns how many pins were placed; `rejected` how many not.
size_t ApplyPins(const std::vector<CompiledPin>& pins,
                 const std::function<std::optional<RankedItem>(const std::string&)>& resolve,
                 bool explain, std::vector<RankedItem>* items, size_t* rejected);

// Moves pinned items back to their slots after the list grew (fallback
// rows are appended after the pins were placed in a shorter list).
void SettlePins(const std::vector<CompiledPin>& pins, std::vector<RankedItem>* items);

// Appends candidates (in order, skipping ids already present and those
// breaking a diversity cap) until the list has k items. Returns how many
// were appended; each is marked from_fallback.
size_t PadWithFallback(const std::vector<CompiledDiversity>& caps, size_t k,
                       const std::function<bool(RankedItem*)>& next_candidate, bool explain,
                       std::vector<RankedItem>* items);

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_STAGES_H_
