#include "server/rules/prepared_rules.h"

#include <algorithm>
#include <map>

namespace affinity::server::rules {
namespace {

bool ByItemId(const affinity::v1::CatalogItem* a, const affinity::v1::CatalogItem* b);

std::shared_ptr<const AllowedScan> PrepareScan(const ItemBitmap& allowed, const LoadedModel& model) {
  return model.scorer != nullptr ? model.scorer->PrepareAllowed(allowed) : nullptr;
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
    out.allowed_scan = PrepareScan(*allowed, model);
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
  for (const auto& [name, bitmap] : flipped) {
    next->sets.find(name)->second.allowed_scan = PrepareScan(*bitmap, model);
  }
  return next;
}

const PreparedRuleSet* PreparedRules::Find(absl::string_view name) const {
  const CompiledRuleSet* set = rules->Find(name);
  if (set == nullptr) return nullptr;
  auto it = sets.find(set->name);
  return it == sets.end() ? nullptr : &it->second;
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
  return prepared;
}

}  // namespace affinity::server::rules
