#include "server/rules/rule_pipeline.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_format.h"

namespace affinity::server::rules {
namespace {

RankedItem ModelItem(const PreparedRules& prepared, uint32_t index, float score) {
  RankedItem item;
  item.item_id = prepared.model->item_id(index);
  item.index = index;
  item.catalog = prepared.items[index];
  item.score = score;
  return item;
}

size_t FetchSize(const CompiledRuleSet& rules, size_t k, size_t allowed) {
  size_t fetch = k + rules.pins.size();
  if (!rules.boosts.empty() || !rules.diversity.empty()) {
    fetch = std::max(fetch, std::max(4 * k, k + 200));
  }
  return std::min(fetch, std::max(allowed, k));
}

// With diversity and no boosts, what is fetched first: the diversity stage
// takes each slot's first fitting item in score order, so a prefix of the
// candidates from which it fills k gives what the whole list would give.
size_t FirstFetchSize(const CompiledRuleSet& rules, size_t k, size_t allowed) {
  const size_t full = FetchSize(rules, k, allowed);
  if (!rules.boosts.empty() || rules.diversity.empty()) return full;
  return std::min(full, std::max(4 * k, k + rules.pins.size()));
}

}  // namespace

bool RequestFilterPredicate::Passes(const affinity::v1::CatalogItem* item) const {
  for (const CompiledFilter& f : filters_) {
    if (!f.Passes(item)) return false;
  }
  return true;
}

bool RequestFilterPredicate::Allows(uint32_t index) const {
  return Passes(index < prepared_->items.size() ? prepared_->items[index] : nullptr);
}

RuleOutcome RunRules(const RuleRequest& request) {
  RuleOutcome out;
  const PreparedRules& prepared = *request.prepared;
  const PreparedRuleSet& set = *request.set;
  const CompiledRuleSet& rules = *set.rules;
  const size_t k = request.k;
  auto excluded_index = [&](uint32_t index) {
    return request.excluded != nullptr && request.excluded->Contains(index);
  };
  auto excluded_id = [&](const std::string& id) {
    return request.excluded_ids != nullptr && request.excluded_ids->contains(id);
  };

  // Request filters narrow the rule set's bitmap for this request, tested
  // only on the items considered (candidates, pins, fallback).
  std::shared_ptr<const RequestFilterPredicate> request_filter;
  if (request.request_filters != nullptr && !request.request_filters->empty()) {
    request_filter =
        std::make_shared<RequestFilterPredicate>(request.prepared, *request.request_filters);
  }
  auto passes_request = [&](const affinity::v1::CatalogItem* item) {
    return request_filter == nullptr || request_filter->Passes(item);
  };
  auto allows = [&](uint32_t index) {
    return set.Allows(index) && (request_filter == nullptr || request_filter->Allows(index));
  };

  // 1-2. filter + exclude, inside the scan.
  auto score = [&](size_t fetch) {
    ScoringQuery query;
    query.k = fetch;
    query.allowed = set.allowed.get();
    query.allowed_scan = set.allowed_scan.get();
    query.also_allowed = request_filter.get();
    query.owner = request_filter != nullptr ? std::shared_ptr<const void>(request_filter)
                                            : std::shared_ptr<const void>(request.prepared);
    ScoringResult scored = request.score(std::move(query));
    out.items_scored += scored.items_scored;
    out.counts.filter_dropped = scored.not_allowed;
    out.counts.exclude_dropped = scored.excluded_hits;
    std::vector<RankedItem> items;
    items.reserve(scored.items.size());
    for (const ScoredIndex& s : scored.items) items.push_back(ModelItem(prepared, s.index, s.score));
    return items;
  };
  std::vector<RankedItem> items;
  size_t diversity_dropped = 0;
  bool diversified = false;
  if (request.score) {
    // At most this many are allowed (request filters may allow fewer).
    const size_t allowed = set.allowed == nullptr ? prepared.items.size() : set.allowed->count();
    const size_t full = FetchSize(rules, k, allowed);
    const size_t first = request.score_is_prefix_stable ? FirstFetchSize(rules, k, allowed) : full;
    items = score(first);
    if (first < full) {
      // Diversity without boosts: the prefix is enough when the stage fills
      // k from it and no candidate left out could tie with its last pick
      // (the dropped count), or it is every candidate there is.
      const bool complete = items.size() < first;
      const float last_fetched = items.empty() ? 0.0f : items.back().score;
      items = ApplyDiversity(rules.diversity, k, std::move(items), &diversity_dropped);
      diversified = true;
      if (!complete && (items.size() < k || items.back().score <= last_fetched)) {
        out.counts.refetches = 1;
        diversified = false;
        items = score(full);
      }
    }
  }
  // 3. boost.
  out.counts.boosted = ApplyBoosts(rules.boosts, request.now_unix, request.explain, &items);
  // 4. diversity (also cuts to k).
  if (!diversified) items = ApplyDiversity(rules.diversity, k, std::move(items), &diversity_dropped);
  out.counts.diversity_dropped = diversity_dropped;
  // 5. pin.
  size_t pin_rejected = 0;
  out.counts.pinned = ApplyPins(
      rules.pins,
      [&](const std::string& id) -> std::optional<RankedItem> {
        if (excluded_id(id)) return std::nullopt;
        if (std::optional<uint32_t> index = prepared.model->FindItem(id)) {
          if (!allows(*index)) return std::nullopt;
          return ModelItem(prepared, *index,
                           request.score_item ? request.score_item(*index) : 0.0f);
        }
        const affinity::v1::CatalogItem* item = prepared.catalog->Find(id);
        if (item == nullptr || !rules.PassesFilters(item) || !passes_request(item) ||
            prepared.rules->blocklist().contains(id)) {
          return std::nullopt;
        }
        RankedItem r;
        r.item_id = id;
        r.catalog = item;
        return r;
      },
      request.explain, &items, &pin_rejected);
  out.counts.pin_dropped = pin_rejected;
  if (items.size() > k) items.resize(k);
  // 6. fallback: popular model items, then catalog-only items.
  if (rules.fallback && items.size() < k) {
    size_t rank = 0;
    size_t catalog_next = 0;
    const std::vector<uint32_t> none;
    const std::vector<uint32_t>& popular = request.popular != nullptr ? *request.popular : none;
    out.counts.fallback = PadWithFallback(
        rules.diversity, k,
        [&](RankedItem* next) {
          while (rank < popular.size()) {
            const uint32_t index = popular[rank++];
            if (index >= prepared.items.size() || !allows(index) || excluded_index(index)) {
              continue;
            }
            *next = ModelItem(prepared, index, 1.0f / static_cast<float>(rank));
            return true;
          }
          while (catalog_next < set.catalog_only.size()) {
            const affinity::v1::CatalogItem* item = set.catalog_only[catalog_next++];
            if (excluded_id(item->item_id()) || !passes_request(item)) continue;
            *next = RankedItem();
            next->item_id = item->item_id();
            next->catalog = item;
            return true;
          }
          return false;
        },
        request.explain, &items);
    SettlePins(rules.pins, &items);
  }
  out.items = std::move(items);
  return out;
}

}  // namespace affinity::server::rules
