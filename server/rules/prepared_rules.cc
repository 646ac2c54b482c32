#include "server/rules/prepared_rules.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace affinity::server::rules {
namespace {

bool ByItemId(const affinity::v1::CatalogItem* a, const affinity::v1::CatalogItem* b);

// Gives the sets named in `names` (their allowed_scan null) what the
// model's scorer prepares for their bitmaps, smallest bitmap first (the
// fewer rows a set keeps, the more of a pass its copy saves and the less it
// holds), while the scorer's budget less `used` bytes allows.
void PrepareScans(const std::vector<std::string>& names, size_t used, const LoadedModel& model,
                  PreparedRules* prepared) {
  if (model.scorer == nullptr) return;
  std::vector<PreparedRuleSet*> sets;
  for (const std::string& name : names) {
    PreparedRuleSet& set = prepared->sets.find(name)->second;
    if (set.allowed != nullptr) sets.push_back(&set);
  }
  std::stable_sort(sets.begin(), sets.end(), [](const PreparedRuleSet* a, const PreparedRuleSet* b) {
    return a->allowed->count() < b->allowed->count();
  });
  const size_t budget = model.scorer->AllowedScanBudget();
  for (PreparedRuleSet* set : sets) {
    if (used >= budget) return;
    set->allowed_scan = model.scorer->PrepareAllowed(*set->allowed, budget - used);
    if (set->allowed_scan != nullptr) used += set->allowed_scan->bytes();
  }
}

PreparedRuleSet PrepareSet(const CompiledRuleSet& set, const PreparedRules& prepared,
                           const LoadedModel& model) {
  PreparedRuleSet out;
  out.rules = &set;
  const absl::flat_hash_set<std::string>& blocklist = prepared.rules->blocklist();
  const size_t n = prepared.items.size();
  if (!set.filters.empty() || !blocklist.empty()) {
    auto allowed = std::make_shared<ItemBitmap>(n);
    for (size_t i = 0; i < n; ++i) {
      if (set.PassesFilters(prepared.items[i]) && !blocklist.contains(model.item_id(i))) {
        allowed->Set(static_cast<uint32_t>(i));
      }
    }
    out.allowed = allowed;
  }
  for (const auto& [id, item] : prepared.catalog->items) {
    if (model.FindItem(id).has_value() || blocklist.contains(id)) continue;
    if (set.PassesFilters(item.get())) out.catalog_only.push_back(item.get());
  }
  std::sort(out.catalog_only.begin(), out.catalog_only.end(), ByItemId);
  return out;
}

bool ByItemId(const affinity::v1::CatalogItem* a, const affinity::v1::CatalogItem* b) {
  return a->item_id() < b->item_id();
}

}  // namespace

std::shared_ptr<const PreparedRules> UpdatePreparedRules(
    const PreparedRules& previous, std::shared_ptr<const CatalogSnapshot> catalog,
    const LoadedModel& model) {
  if (previous.model != &model || previous.model_version != model.version ||
      catalog->base_generation == 0 ||
      catalog->base_generation != previous.catalog->generation) {
    return nullptr;
  }
  auto next = std::make_shared<PreparedRules>();
  next->rules = previous.rules;
  next->catalog = std::move(catalog);
  next->model_version = model.version;
  next->model = &model;
  next->items = previous.items;
  const absl::flat_hash_set<std::string>& blocklist = next->rules->blocklist();
  for (const auto& [name, set] : previous.sets) {
    PreparedRuleSet copy;
    copy.rules = set.rules;
    copy.allowed = set.allowed;  // copied below if a change flips one of its bits
    copy.allowed_scan = set.allowed_scan;
    copy.catalog_only = set.catalog_only;
    next->sets.emplace(name, std::move(copy));
  }
  // The bitmaps a change flips, copied once each.
  std::map<std::string, std::shared_ptr<ItemBitmap>, std::less<>> flipped;
  for (const std::string& id : next->catalog->changed_ids) {
    const affinity::v1::CatalogItem* item = next->catalog->Find(id);
    const std::optional<uint32_t> index = model.FindItem(id);
    if (index.has_value()) next->items[*index] = item;
    for (auto& [name, set] : next->sets) {
      const bool passes = set.rules->PassesFilters(item) && !blocklist.contains(id);
      if (index.has_value()) {
        if (set.allowed == nullptr || set.allowed->Contains(*index) == passes) continue;
        std::shared_ptr<ItemBitmap>& bitmap = flipped[name];
        if (bitmap == nullptr) {
          bitmap = std::make_shared<ItemBitmap>(*set.allowed);
          set.allowed = bitmap;
        }
        if (passes) {
          bitmap->Set(*index);
        } else {
          bitmap->Clear(*index);
        }
        continue;
      }
      std::vector<const affinity::v1::CatalogItem*>& only = set.catalog_only;
      auto it = std::lower_bound(only.begin(), only.end(), id,
                                 [](const affinity::v1::CatalogItem* a, const std::string& b) {
                                   return a->item_id() < b;
                                 });
      if (it != only.end() && (*it)->item_id() == id) it = only.erase(it);
      if (item != nullptr && passes) only.insert(it, item);
    }
  }
  // The copies of the flipped bitmaps are made again, within what the
  // others' copies leave of the budget.
  size_t kept_bytes = 0;
  std::vector<std::string> remade;
  for (auto& [name, set] : next->sets) {
    if (flipped.count(name) > 0) {
      set.allowed_scan = nullptr;
      remade.push_back(name);
    } else if (set.allowed_scan != nullptr) {
      kept_bytes += set.allowed_scan->bytes();
    }
  }
  PrepareScans(remade, kept_bytes, model, next.get());
  return next;
}

const PreparedRuleSet* PreparedRules::Find(absl::string_view name) const {
  const CompiledRuleSet* set = rules->Find(name);
  if (set == nullptr) return nullptr;
  auto it = sets.find(set->name);
  return it == sets.end() ? nullptr : &it->second;
}

size_t PreparedRules::ScanCopyBytes() const {
  size_t bytes = 0;
  for (const auto& [name, set] : sets) {
    if (set.allowed_scan != nullptr) bytes += set.allowed_scan->bytes();
  }
  return bytes;
}

std::shared_ptr<const PreparedRules> PrepareRules(std::shared_ptr<const CompiledRules> rules,
                                                  std::shared_ptr<const CatalogSnapshot> catalog,
                                                  const LoadedModel& model) {
  auto prepared = std::make_shared<PreparedRules>();
  prepared->rules = std::move(rules);
  prepared->catalog = std::move(catalog);
  prepared->model_version = model.version;
  prepared->model = &model;
  const size_t n = model.items->rows();
  prepared->items.resize(n, nullptr);
  for (size_t i = 0; i < n; ++i) prepared->items[i] = prepared->catalog->Find(model.item_id(i));
  const CompiledRuleSet* fallback_default = prepared->rules->Find("");
  prepared->sets.emplace(fallback_default->name,
                         PrepareSet(*fallback_default, *prepared, model));
  for (const std::string& name : prepared->rules->Names()) {
    if (prepared->sets.count(name) > 0) continue;
    prepared->sets.emplace(name, PrepareSet(*prepared->rules->Find(name), *prepared, model));
  }
  std::vector<std::string> names;
  for (const auto& [name, set] : prepared->sets) names.push_back(name);
  PrepareScans(names, 0, model, prepared.get());
  return prepared;
}

}  // namespace affinity::server::rules
