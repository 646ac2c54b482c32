#include "server/rules/rule_stages.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"

namespace affinity::server::rules {

size_t ApplyBoosts(const std::vector<CompiledBoost>& boosts, int64_t now_unix, bool explain,
                   std::vector<RankedItem>* items) {
  if (boosts.empty()) return 0;
  size_t boosted = 0;
  for (RankedItem& item : *items) {
    bool touched = false;
    for (const CompiledBoost& boost : boosts) {
      const std::optional<float> score = boost.Apply(item.score, item.catalog, now_unix);
      if (!score.has_value()) continue;
      if (explain) {
        item.notes.push_back(
            absl::StrFormat("boosted by %s: %.4g -> %.4g", boost.description, item.score, *score));
      }
      item.score = *score;
      touched = true;
    }
    boosted += touched;
  }
  std::stable_sort(items->begin(), items->end(),
                   [](const RankedItem& a, const RankedItem& b) { return a.score > b.score; });
  return boosted;
}

DiversityCounter::DiversityCounter(const std::vector<CompiledDiversity>& caps)
    : caps_(caps), counts_(caps.size()) {}

bool DiversityCounter::Fits(const RankedItem& item) const {
  for (size_t c = 0; c < caps_.size(); ++c) {
    const CompiledDiversity& cap = caps_[c];
    if (cap.top > 0 && placed_ >= static_cast<size_t>(cap.top)) continue;
    for (absl::string_view value : StringValuesOf(cap.attribute, item.catalog)) {
      auto it = counts_[c].find(value);
      if (it != counts_[c].end() && it->second >= cap.max_per_value) return false;
    }
  }
  return true;
}

void DiversityCounter::Add(const RankedItem& item) {
  for (size_t c = 0; c < caps_.size(); ++c) {
    const CompiledDiversity& cap = caps_[c];
    if (cap.top > 0 && placed_ >= static_cast<size_t>(cap.top)) continue;
    for (absl::string_view value : StringValuesOf(cap.attribute, item.catalog)) {
      ++counts_[c][value];
    }
  }
  ++placed_;
}

std::vector<RankedItem> ApplyDiversity(const std::vector<CompiledDiversity>& caps, size_t k,
                                       std::vector<RankedItem> items, size_t* dropped) {
  *dropped = 0;
  if (caps.empty()) {
    if (items.size() > k) items.resize(k);
    return items;
  }
  std::vector<RankedItem> kept;
  std::vector<bool> used(items.size(), false);
  DiversityCounter counter(caps);
  // Each slot takes the best remaining item that fits there; `first` skips
  // the used prefix.
  size_t first = 0;
  while (kept.size() < k) {
    while (first < items.size() && used[first]) ++first;
    bool placed = false;
    for (size_t i = first; i < items.size(); ++i) {
      if (used[i] || !counter.Fits(items[i])) continue;
      used[i] = true;
      counter.Add(items[i]);
      kept.push_back(std::move(items[i]));
      placed = true;
      break;
    }
    if (!placed) break;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    // Unused items ranked above the last kept one were left out by a cap.
    if (!used[i] && !kept.empty() && items[i].score >= kept.back().score) ++*dropped;
  }
  return kept;
}

size_t ApplyPins(const std::vector<CompiledPin>& pins,
                 const std::function<std::optional<RankedItem>(const std::string&)>& resolve,
                 bool explain, std::vector<RankedItem>* items, size_t* rejected) {
  *rejected = 0;
  size_t placed = 0;
  for (const CompiledPin& pin : pins) {
    std::optional<RankedItem> item;
    auto present = std::find_if(items->begin(), items->end(), [&](const RankedItem& r) {
      return r.item_id == pin.item_id;
    });
    if (present != items->end()) {
      if (present->pinned) continue;
      item = std::move(*present);
      items->erase(present);
    } else {
      item = resolve(pin.item_id);
    }
    if (!item.has_value()) {
      ++*rejected;
      continue;
    }
    item->pinned = true;
    if (explain) item->notes.push_back(absl::StrFormat("pinned at slot %d", pin.slot));
    const size_t at = std::min(items->size(), static_cast<size_t>(pin.slot - 1));
    items->insert(items->begin() + static_cast<std::ptrdiff_t>(at), std::move(*item));
    ++placed;
  }
  return placed;
}

void SettlePins(const std::vector<CompiledPin>& pins, std::vector<RankedItem>* items) {
  std::vector<RankedItem> pinned;
  std::vector<RankedItem> rest;
  for (RankedItem& item : *items) (item.pinned ? pinned : rest).push_back(std::move(item));
  if (pinned.empty()) {
    *items = std::move(rest);
    return;
  }
  items->swap(rest);
  for (const CompiledPin& pin : pins) {  // ascending slot
    auto it = std::find_if(pinned.begin(), pinned.end(),
                           [&](const RankedItem& r) { return r.item_id == pin.item_id; });
    if (it == pinned.end()) continue;
    const size_t at = std::min(items->size(), static_cast<size_t>(pin.slot - 1));
    items->insert(items->begin() + static_cast<std::ptrdiff_t>(at), std::move(*it));
    pinned.erase(it);
  }
}

size_t PadWithFallback(const std::vector<CompiledDiversity>& caps, size_t k,
                       const std::function<bool(RankedItem*)>& next_candidate, bool explain,
                       std::vector<RankedItem>* items) {
  absl::flat_hash_set<std::string> present;
  DiversityCounter counter(caps);
  for (const RankedItem& item : *items) {
    present.insert(item.item_id);
    counter.Add(item);
  }
  size_t added = 0;
  RankedItem candidate;
  while (items->size() < k && next_candidate(&candidate)) {
    if (present.contains(candidate.item_id) || !counter.Fits(candidate)) continue;
    present.insert(candidate.item_id);
    counter.Add(candidate);
    candidate.from_fallback = true;
    if (explain) candidate.notes.push_back("fallback: popular item passing the rule set's filters");
    items->push_back(std::move(candidate));
    candidate = RankedItem();
    ++added;
  }
  return added;
}

}  // namespace affinity::server::rules
