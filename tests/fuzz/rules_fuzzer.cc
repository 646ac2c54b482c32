// Fuzz target: the rules parser (server/rules/rule_config_loader.h), text
// format or JSON by the input's first byte, as the server loads --rules;
// every rule set that compiles is then run through the rule stages
// (server/rules/rule_stages.h) over a small fixed catalog.
//
// Invariants checked beyond "no crash": an error names the file; every
// listed rule set can be found by name; diversity returns at most k items;
// boosts, diversity and pins keep item ids unique.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_stages.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using affinity::v1::CatalogItem;
using namespace affinity::server::rules;

const std::vector<CatalogItem>& Catalog() {
  static const std::vector<CatalogItem>* items = [] {
    auto* v = new std::vector<CatalogItem>(6);
    const char* const brands[] = {"acme", "acme", "zenith", "", "zenith", "other"};
    for (int i = 0; i < 6; ++i) {
      CatalogItem& item = (*v)[i];
      item.set_item_id(absl::StrCat("i", i));
      item.set_title(absl::StrCat("Title ", i));
      item.add_categories(i % 2 ? "books" : "films");
      if (i % 3 == 0) item.add_categories("sale");
      item.set_brand(brands[i]);
      if (i != 3) item.set_price(1.5 * i);
      item.set_in_stock(i != 4);
      item.set_created_at_unix(i == 5 ? 0 : 1700000000 - 86400 * i);
      item.set_region(i < 3 ? "eu" : "us");
      item.add_tags(absl::StrCat("t", i % 2));
    }
    return v;
  }();
  return *items;
}

void CheckUnique(const std::vector<RankedItem>& items, const char* stage) {
  absl::flat_hash_set<std::string> ids;
  for (const RankedItem& item : items) {
    FUZZ_CHECK(ids.insert(item.item_id).second, absl::StrCat(stage, ": ", item.item_id, " twice"));
  }
}

void RunStages(const CompiledRuleSet& set, size_t k) {
  std::vector<RankedItem> items;
  for (const CatalogItem& c : Catalog()) {
    if (!set.PassesFilters(&c)) continue;
    RankedItem item;
    item.item_id = c.item_id();
    item.index = static_cast<uint32_t>(items.size());
    item.catalog = &c;
    item.score = 1.0f - 0.1f * static_cast<float>(items.size());
    items.push_back(item);
  }
  set.PassesFilters(nullptr);
  ApplyBoosts(set.boosts, 1700000000, /*explain=*/true, &items);
  CheckUnique(items, "boost");
  size_t dropped = 0;
  items = ApplyDiversity(set.diversity, k, std::move(items), &dropped);
  FUZZ_CHECK(items.size() <= k, absl::StrCat("diversity returned ", items.size(), " > k ", k));
  CheckUnique(items, "diversity");
  auto resolve = [&set](const std::string& id) -> std::optional<RankedItem> {
    for (const CatalogItem& c : Catalog()) {
      if (c.item_id() == id && set.PassesFilters(&c)) {
        RankedItem item;
        item.item_id = id;
        item.catalog = &c;
        return item;
      }
    }
    return std::nullopt;
  };
  size_t rejected = 0;
  ApplyPins(set.pins, resolve, /*explain=*/true, &items, &rejected);
  CheckUnique(items, "pins");
  SettlePins(set.pins, &items);
  CheckUnique(items, "settle pins");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  affinity::fuzz::FuzzInput in(data, size);
  const uint8_t option = in.TakeByte();
  const std::string path = (option & 1) ? "rules.json" : "rules.textproto";
  const int max_slot = (option & 2) ? 3 : 1000;
  const size_t k = 1 + (option >> 2) % 8;
  absl::StatusOr<std::shared_ptr<const CompiledRules>> rules =
      ParseRules(path, in.rest(), max_slot);
  if (!rules.ok()) {
    FUZZ_CHECK(absl::StartsWith(rules.status().message(), path + ":"),
               rules.status().ToString());
    return 0;
  }
  for (const std::string& name : (*rules)->Names()) {
    const CompiledRuleSet* set = (*rules)->Find(name);
    FUZZ_CHECK(set != nullptr, absl::StrCat("rule set ", name, " listed but not found"));
    for (const CompiledPin& pin : set->pins) {
      FUZZ_CHECK(pin.slot >= 1 && pin.slot <= max_slot, absl::StrCat("pin slot ", pin.slot));
    }
    RunStages(*set, k);
  }
  if (const CompiledRuleSet* set = (*rules)->Find(""); set != nullptr) RunStages(*set, k);
  return 0;
}
