// PreparedRules: the rules of one CompiledRules snapshot applied to one
// catalog snapshot and one model version, ready for the request path:
// per model item index its catalog record, and per rule set the bitmap of
// items its static filters and the global blocklist allow, plus the
// catalog items the model does not know that pass the filters (usable as
// pins and fallback, never scored), and what the model's scorer prepared for
// each bitmap. Immutable; rebuilt when the model, the catalog or the rules
// change (RuleEngine), off the request path.
#ifndef AFFINITY_SERVER_RULES_PREPARED_RULES_H_
#define AFFINITY_SERVER_RULES_PREPARED_RULES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "server/lifecycle/loaded_model.h"
#include "server/rules/catalog_view.h"
#include "server/rules/compiled_rules.h"
#include "server/scoring/scorer.h"
#include "server/scoring/top_k.h"

namespace affinity::server::rules {

struct PreparedRuleSet {
  const CompiledRuleSet* rules = nullptr;
  // Null when every model item is allowed (no filters, empty blocklist).
  // Shared with the next PreparedRules when a catalog change leaves it as is.
  std::shared_ptr<const ItemBitmap> allowed;
  // What the model's scorer prepared for `allowed` (Scorer::PrepareAllowed,
  // e.g. the int8 rows of just those items; may be null). Refers to
  // *allowed, and is rebuilt with it. The sets of one PreparedRules share
  // the scorer's AllowedScanBudget, smallest bitmap first; a catalog change
  // remakes only the flipped sets', within what the others leave.
  std::shared_ptr<const AllowedScan> allowed_scan;
  // Catalog items absent from the model that pass the filters and are not
  // blocklisted, ascending item_id.
  std::vector<const affinity::v1::CatalogItem*> catalog_only;

  bool Allows(uint32_t index) const { return allowed == nullptr || allowed->Contains(index); }
};

struct PreparedRules {
  std::shared_ptr<const CompiledRules> rules;
  std::shared_ptr<const CatalogSnapshot> catalog;
  uint64_t model_version = 0;
  const LoadedModel* model = nullptr;  // identity only; not owned
  // Per model item index; null when the item is not in the catalog.
  std::vector<const affinity::v1::CatalogItem*> items;
  // Keyed by the rule set's name; the default (unnamed) set under "".
  std::map<std::string, PreparedRuleSet, std::less<>> sets;

  // For a request's rule_set ("" / "default" / a name); null when unknown.
  const PreparedRuleSet* Find(absl::string_view name) const;
  // Bytes held by what the scorer prepared for the sets (their allowed_scan
  // copies): memory this version holds only because of the rules and the
  // catalog (a version without a catalog keeps no copy).
  size_t ScanCopyBytes() const;
};

// `previous` brought up to `catalog` when the catalog is `previous`'s plus
// changes to catalog->changed_ids (catalog->base_generation equals the
// generation `previous` was prepared for): only those items are
// re-evaluated. Null when that does not hold (call PrepareRules).
std::shared_ptr<const PreparedRules> UpdatePreparedRules(
    const PreparedRules& previous, std::shared_ptr<const CatalogSnapshot> catalog,
    const LoadedModel& model);

std::shared_ptr<const PreparedRules> PrepareRules(std::shared_ptr<const CompiledRules> rules,
                                                  std::shared_ptr<const CatalogSnapshot> catalog,
                                                  const LoadedModel& model);

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_PREPARED_RULES_H_
