// Each rule stage alone against hand-made cases, the rules file loader's
// error reporting, and the scorers' allowed-items bitmap.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_stages.h"

namespace affinity::server::rules {
namespace {

using affinity::v1::CatalogItem;

CatalogItem Item(std::string id, std::vector<std::string> categories, std::string brand = "",
                 double price = 0, bool in_stock = true, int64_t created = 0) {
  CatalogItem item;
  item.set_item_id(std::move(id));
  for (std::string& c : categories) item.add_categories(std::move(c));
  item.set_brand(std::move(brand));
  item.set_price(price);
  item.set_in_stock(in_stock);
  item.set_created_at_unix(created);
  return item;
}

std::shared_ptr<const CompiledRules> MustParse(const std::string& text) {
  auto rules = ParseRules("test.textproto", text);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : nullptr;
}

TEST(FilterTest, StringNumberBooleanAndDateConditions) {
  auto rules = MustParse(R"pb(
    rule_sets {
      name: "f"
      filters { attribute: "category" none_of: "Horror" }
      filters { attribute: "brand" any_of: [ "acme", "zeta" ] keep_missing: true }
      filters { attribute: "price" min: 10 max: 20 }
      filters { attribute: "in_stock" equals: true }
      filters { attribute: "created_at" newer_than: "2020-01-01" }
    })pb");
  ASSERT_NE(rules, nullptr);
  const CompiledRuleSet& set = *rules->Find("f");
  const int64_t y2021 = 1609459200;  // 2021-01-01
  EXPECT_TRUE(set.PassesFilters(&static_cast<const CatalogItem&>(
      Item("a", {"Comedy"}, "acme", 15, true, y2021))));
  CatalogItem horror = Item("b", {"Comedy", "Horror"}, "acme", 15, true, y2021);
  EXPECT_FALSE(set.PassesFilters(&horror));
  CatalogItem no_brand = Item("c", {"Comedy"}, "", 15, true, y2021);
  EXPECT_TRUE(set.PassesFilters(&no_brand));  // keep_missing
  CatalogItem other_brand = Item("d", {"Comedy"}, "other", 15, true, y2021);
  EXPECT_FALSE(set.PassesFilters(&other_brand));
  CatalogItem pricey = Item("e", {"Comedy"}, "acme", 20.5, true, y2021);
  EXPECT_FALSE(set.PassesFilters(&pricey));
  CatalogItem out_of_stock = Item("f", {"Comedy"}, "acme", 15, false, y2021);
  EXPECT_FALSE(set.PassesFilters(&out_of_stock));
  CatalogItem old = Item("g", {"Comedy"}, "acme", 15, true, 1262304000);  // 2010
  EXPECT_FALSE(set.PassesFilters(&old));
  // Not in the catalog: fails in_stock/price/any_of conditions.
  EXPECT_FALSE(set.PassesFilters(nullptr));
  // ... but passes a none_of-only rule set.
  auto lax = MustParse(R"pb(rule_sets { name: "n" filters { attribute: "category" none_of: "Horror" } })pb");
  EXPECT_TRUE(lax->Find("n")->PassesFilters(nullptr));
}

TEST(FilterTest, AnItemWithoutAFinitePriceHasNoPrice) {
  auto rules = MustParse(R"pb(
    rule_sets { name: "cheap" filters { attribute: "price" max: 20 } }
    rule_sets { name: "cheap_or_unknown" filters { attribute: "price" max: 20 keep_missing: true } }
  )pb");
  ASSERT_NE(rules, nullptr);
  const CompiledRuleSet& cheap = *rules->Find("cheap");
  const CompiledRuleSet& lax = *rules->Find("cheap_or_unknown");
  CatalogItem free = Item("free", {"x"}, "", 0);
  EXPECT_TRUE(cheap.PassesFilters(&free));  // a price of 0, set
  CatalogItem unpriced = Item("unpriced", {"x"});
  unpriced.clear_price();
  EXPECT_FALSE(cheap.PassesFilters(&unpriced));
  EXPECT_TRUE(lax.PassesFilters(&unpriced));
  // Stored before writes refused them: not a price either.
  for (double bad : {std::nan(""), -HUGE_VAL}) {
    CatalogItem odd = Item("odd", {"x"}, "", bad);
    EXPECT_FALSE(cheap.PassesFilters(&odd)) << bad;
    EXPECT_TRUE(lax.PassesFilters(&odd)) << bad;
  }
}

TEST(FilterTest, NonFiniteBoundsAreRejectedNamingTheField) {
  auto rules = ParseRules("r.textproto",
                          "rule_sets {\n  name: \"a\"\n  filters { attribute: \"price\" min: nan }\n}\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(std::string(rules.status().message()),
            "r.textproto:3:32: rule_sets[0].filters[0].min: expected a finite number, got nan");
  rules = ParseRules("r.textproto",
                     "rule_sets { name: \"a\" filters { attribute: \"price\" max: inf } }");
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("rule_sets[0].filters[0].max: expected a finite number, got inf"),
            std::string::npos)
      << rules.status();
  affinity::v1::Filter ok;
  ok.set_attribute("price");
  ok.set_min(1);
  affinity::v1::Filter nan_max;
  nan_max.set_attribute("price");
  nan_max.set_max(std::nan(""));
  auto request = CompileFilters({ok, nan_max});
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(std::string(request.status().message()), "filters[1].max: expected a finite number, got nan");
}

TEST(RuleFileTest, SyntaxErrorNamesFileLineAndColumn) {
  auto rules = ParseRules("rules.textproto",
                          "rule_sets {\n  name: \"a\"\n  filterz { attribute: \"brand\" }\n}\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rules.status().message().rfind("rules.textproto:3:", 0), 0u) << rules.status();
  EXPECT_NE(rules.status().message().find("filterz"), std::string::npos) << rules.status();
}

TEST(RuleFileTest, SemanticErrorsNameTheFieldAndItsLine) {
  struct Case {
    std::string text;
    std::string want_prefix;
    std::string want_field;
  };
  const std::vector<Case> cases = {
      {"rule_sets { name: \"a\" }\nrule_sets {\n  name: \"b\"\n  filters {\n    attribute: "
       "\"colour\" any_of: \"red\"\n  }\n}\n",
       "r.textproto:5:", "rule_sets[1].filters[0].attribute: unknown attribute \"colour\""},
      {"rule_sets { name: \"a\" }\nrule_sets { name: \"a\" }\n", "r.textproto:2:",
       "rule_sets[1].name: duplicate rule set name"},
      {"rule_sets {\n name: \"a\"\n pins { item_id: \"1\"\n slot: 0 }\n}\n", "r.textproto:4:",
       "rule_sets[0].pins[0].slot: expected 1..1000, got 0"},
      {"default_rule_set: \"missing\"\n", "r.textproto:1:", "default_rule_set: no rule set"},
      {"rule_sets { name: \"a\" filters { attribute: \"price\" any_of: \"x\" } }",
       "r.textproto:1:", "rule_sets[0].filters[0].any_of: attribute \"price\" is not a string"},
  };
  for (const Case& c : cases) {
    auto rules = ParseRules("r.textproto", c.text);
    ASSERT_FALSE(rules.ok()) << c.text;
    const std::string message(rules.status().message());
    EXPECT_EQ(message.rfind(c.want_prefix, 0), 0u) << message;
    EXPECT_NE(message.find(c.want_field), std::string::npos) << message;
  }
}

TEST(RuleFileTest, JsonIsParsedByProtobuf) {
  auto rules = ParseRules(
      "r.json",
      R"({"ruleSets": [{"name": "j", "filters": [{"attribute": "brand", "noneOf": ["x"]}]}],
          "defaultRuleSet": "j"})");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ((*rules)->Find("")->name, "j");
  auto bad = ParseRules("r.json", R"({"ruleSets": [{"nam": "j"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("r.json: ", 0), 0u) << bad.status();
}

RankedItem Ranked(const CatalogItem* item, float score) {
  RankedItem r;
  r.item_id = item->item_id();
  r.catalog = item;
  r.score = score;
  return r;
}

TEST(BoostTest, MultipliesMatchingItemsAndReorders) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "b" boosts { attribute: "brand" any_of: "acme" multiply: 2 }
  })pb");
  CatalogItem a = Item("a", {}, "other"), b = Item("b", {}, "acme");
  std::vector<RankedItem> items = {Ranked(&a, 1.0f), Ranked(&b, 0.6f)};
  EXPECT_EQ(ApplyBoosts(rules->Find("b")->boosts, 0, true, &items), 1u);
  EXPECT_EQ(items[0].item_id, "b");
  EXPECT_FLOAT_EQ(items[0].score, 1.2f);
  ASSERT_EQ(items[0].notes.size(), 1u);
  EXPECT_NE(items[0].notes[0].find("boosted by brand in {acme}"), std::string::npos);
}

TEST(BoostTest, AgeDecayHalvesPerHalfLife) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "b" boosts { age_half_life_days: 10 add_at_age_zero: 1 }
  })pb");
  const int64_t now = 100 * 86400;
  CatalogItem fresh = Item("f", {}, "", 0, true, now), old = Item("o", {}, "", 0, true, now - 10 * 86400);
  CatalogItem undated = Item("u", {});
  std::vector<RankedItem> items = {Ranked(&undated, 1.9f), Ranked(&old, 1.0f), Ranked(&fresh, 1.0f)};
  EXPECT_EQ(ApplyBoosts(rules->Find("b")->boosts, now, false, &items), 2u);
  EXPECT_EQ(items[0].item_id, "f");
  EXPECT_FLOAT_EQ(items[0].score, 2.0f);
  EXPECT_FLOAT_EQ(items[2].score, 1.5f);  // old: 1 + 0.5
}

TEST(DiversityTest, CapsHoldAndBestItemsFillTheSlots) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "d" diversity { attribute: "primary_category" max_per_value: 2 }
  })pb");
  std::vector<CatalogItem> catalog;
  const std::vector<std::string> genres = {"A", "A", "A", "A", "B", "B", "B", "C"};
  for (size_t i = 0; i < genres.size(); ++i) catalog.push_back(Item(std::to_string(i), {genres[i]}));
  std::vector<RankedItem> items;
  for (size_t i = 0; i < catalog.size(); ++i) items.push_back(Ranked(&catalog[i], 10.0f - i));
  size_t dropped = 0;
  std::vector<RankedItem> kept = ApplyDiversity(rules->Find("d")->diversity, 5, items, &dropped);
  std::vector<std::string> ids;
  for (const RankedItem& r : kept) ids.push_back(r.item_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1", "4", "5", "7"}));
  EXPECT_EQ(dropped, 3u);  // items 2, 3 and 6 ranked above item 7
}

TEST(DiversityTest, WindowOnlyConstrainsTheTopSlots) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "d" diversity { attribute: "category" max_per_value: 1 top: 2 }
  })pb");
  CatalogItem a = Item("a", {"X"}), b = Item("b", {"X"}), c = Item("c", {"Y"});
  std::vector<RankedItem> items = {Ranked(&a, 3), Ranked(&b, 2), Ranked(&c, 1)};
  size_t dropped = 0;
  std::vector<RankedItem> kept = ApplyDiversity(rules->Find("d")->diversity, 3, items, &dropped);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].item_id, "a");
  EXPECT_EQ(kept[1].item_id, "c");
  EXPECT_EQ(kept[2].item_id, "b");
}

TEST(PinTest, PinsLandOnTheirSlotsAndRejectedPinsAreCounted) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "p"
    pins { item_id: "x" slot: 2 }
    pins { item_id: "c" slot: 1 }
    pins { item_id: "blocked" slot: 3 }
  })pb");
  CatalogItem a = Item("a", {}), b = Item("b", {}), c = Item("c", {}), x = Item("x", {});
  std::vector<RankedItem> items = {Ranked(&a, 3), Ranked(&b, 2), Ranked(&c, 1)};
  size_t rejected = 0;
  const size_t placed = ApplyPins(
      rules->Find("p")->pins,
      [&](const std::string& id) -> std::optional<RankedItem> {
        if (id == "x") return Ranked(&x, 0);
        return std::nullopt;
      },
      false, &items, &rejected);
  EXPECT_EQ(placed, 2u);
  EXPECT_EQ(rejected, 1u);
  std::vector<std::string> ids;
  for (const RankedItem& r : items) ids.push_back(r.item_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"c", "x", "a", "b"}));
  EXPECT_TRUE(items[0].pinned);
  EXPECT_TRUE(items[1].pinned);
}

TEST(PinTest, SettleMovesPinsBackToTheirSlotsAfterTheListGrew) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "p" pins { item_id: "x" slot: 3 } pins { item_id: "y" slot: 1 }
  })pb");
  CatalogItem x = Item("x", {}), y = Item("y", {}), a = Item("a", {}), b = Item("b", {});
  std::vector<RankedItem> items = {Ranked(&y, 0), Ranked(&x, 0), Ranked(&a, 0), Ranked(&b, 0)};
  items[0].pinned = items[1].pinned = true;
  SettlePins(rules->Find("p")->pins, &items);
  std::vector<std::string> ids;
  for (const RankedItem& r : items) ids.push_back(r.item_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"y", "a", "x", "b"}));
}

TEST(FallbackTest, PadsToKSkippingPresentItemsAndRespectingCaps) {
  auto rules = MustParse(R"pb(rule_sets {
    name: "d" diversity { attribute: "primary_category" max_per_value: 1 }
  })pb");
  CatalogItem a = Item("a", {"X"}), b = Item("b", {"X"}), c = Item("c", {"Y"}), d = Item("d", {"Z"});
  std::vector<RankedItem> items = {Ranked(&a, 1)};
  std::vector<const CatalogItem*> popular = {&a, &b, &c, &d};
  size_t next = 0;
  const size_t added = PadWithFallback(
      rules->Find("d")->diversity, 3,
      [&](RankedItem* out) {
        if (next == popular.size()) return false;
        *out = Ranked(popular[next++], 0);
        return true;
      },
      false, &items);
  EXPECT_EQ(added, 2u);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].item_id, "c");
  EXPECT_EQ(items[2].item_id, "d");
  EXPECT_TRUE(items[1].from_fallback);
  EXPECT_FALSE(items[0].from_fallback);
}

// The exact scorer with an allowed bitmap returns the best allowed items,
// both when scanning everything and when the set is small (gather scan).
TEST(AllowedScoringTest, ExactScorerReturnsTheBestAllowedItems) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  const size_t rows = 2000, dims = 16;
  auto matrix = std::make_shared<ItemMatrix>(rows, dims);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t d = 0; d < dims; ++d) matrix->mutable_row(i)[d] = normal(rng);
  }
  std::vector<float> query(dims);
  for (float& q : query) q = normal(rng);
  ExactScorer scorer(matrix);
  for (size_t modulus : {3u, 50u}) {  // 33% and 2% of the items
    ItemBitmap allowed(rows);
    for (uint32_t i = 0; i < rows; i += modulus) allowed.Set(i);
    const ExclusionSet excluded({0, static_cast<uint32_t>(modulus * 2)});
    std::vector<std::pair<float, uint32_t>> want;
    for (uint32_t i = 0; i < rows; ++i) {
      if (!allowed.Contains(i) || excluded.Contains(i)) continue;
      float s = 0;
      for (size_t d = 0; d < dims; ++d) s += matrix->row(i)[d] * query[d];
      want.push_back({s, i});
    }
    std::sort(want.rbegin(), want.rend());
    ScoringQuery q{query, 10, &excluded};
    q.allowed = &allowed;
    const ScoringResult got = scorer.TopK(q);
    ASSERT_EQ(got.items.size(), 10u) << modulus;
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(got.items[r].index, want[r].second) << "modulus " << modulus << " rank " << r;
    }
    // The batch path agrees.
    const std::vector<ScoringResult> batch = scorer.TopKBatch({q, q});
    for (const ScoringResult& b : batch) {
      ASSERT_EQ(b.items.size(), 10u);
      for (size_t r = 0; r < 10; ++r) EXPECT_EQ(b.items[r].index, want[r].second);
    }
  }
}

// HNSW with an allowed bitmap: k results, all allowed and not excluded,
// for a broad (33%) and a selective (2%) filter.
TEST(AllowedScoringTest, HnswScorerReturnsOnlyAllowedItems) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const size_t rows = 3000, dims = 16;
  auto matrix = std::make_shared<ItemMatrix>(rows, dims);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t d = 0; d < dims; ++d) matrix->mutable_row(i)[d] = normal(rng);
  }
  ScorerOptions options;
  options.kind = ScorerKind::kHnsw;
  auto hnsw = HnswScorer::Build(matrix, options);
  ASSERT_TRUE(hnsw.ok()) << hnsw.status();
  std::vector<float> query(dims);
  for (float& q : query) q = normal(rng);
  for (size_t modulus : {3u, 50u}) {
    ItemBitmap allowed(rows);
    for (uint32_t i = 0; i < rows; i += modulus) allowed.Set(i);
    const ExclusionSet excluded({0});
    ScoringQuery q{query, 10, &excluded};
    q.allowed = &allowed;
    const ScoringResult got = (*hnsw)->TopK(q);
    ASSERT_EQ(got.items.size(), 10u) << modulus;
    for (const ScoredIndex& s : got.items) {
      EXPECT_TRUE(allowed.Contains(s.index)) << s.index;
      EXPECT_FALSE(excluded.Contains(s.index)) << s.index;
    }
  }
}

}  // namespace
}  // namespace affinity::server::rules
