// A rules file checked against a catalog (what `affinity rules check --db`
// reports): filters keeping no item are errors pointing at the file's line,
// values, attributes and pins the catalog lacks are warnings, and a rules
// file that fits the catalog has no finding.
#include "server/rules/rules_catalog_check.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/rules/rule_config_loader.h"

namespace affinity::server::rules {
namespace {

using affinity::v1::CatalogItem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

CatalogItem Item(const std::string& id, std::vector<std::string> categories, bool in_stock,
                 const std::string& brand = "") {
  CatalogItem item;
  item.set_item_id(id);
  for (std::string& c : categories) item.add_categories(std::move(c));
  item.set_in_stock(in_stock);
  item.set_brand(brand);
  return item;
}

// Each finding as the CLI prints it: "FILE:LINE:COL: [warning: ]message".
std::vector<std::string> Check(const std::string& rules_text, const std::vector<CatalogItem>& items) {
  absl::StatusOr<RulesFile> file = ParseRulesFile("shop.textproto", rules_text);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  RulesCatalogCheck check(file->config());
  for (const CatalogItem& item : items) check.Add(item);
  std::vector<std::string> lines;
  for (const RulesFinding& finding : check.Findings()) {
    lines.push_back(file->Where(finding.field) + (finding.error ? "" : "warning: ") +
                    finding.message);
  }
  return lines;
}

const std::vector<CatalogItem> kMovies = {
    Item("1", {"Comedy", "Drama"}, true),
    Item("2", {"Horror"}, true),
    Item("3", {"Western"}, false),
};

TEST(RulesCatalogCheckTest, RulesThatFitTheCatalogHaveNoFinding) {
  EXPECT_THAT(Check("rule_sets {\n"
                    "  name: \"home\"\n"
                    "  filters { attribute: \"in_stock\" equals: true }\n"
                    "  filters { attribute: \"category\" none_of: \"Horror\" }\n"
                    "  boosts { attribute: \"category\" any_of: \"Comedy\" multiply: 1.5 }\n"
                    "  diversity { attribute: \"primary_category\" max_per_value: 1 }\n"
                    "  pins { item_id: \"3\" slot: 1 }\n"
                    "}\n",
                    kMovies),
              IsEmpty());
}

TEST(RulesCatalogCheckTest, AFilterOnAnAttributeNoItemHasIsAnErrorAtItsLine) {
  EXPECT_THAT(Check("rule_sets {\n"
                    "  name: \"acme\"\n"
                    "  filters { attribute: \"brand\" any_of: \"acme\" }\n"
                    "}\n"
                    "rule_sets {\n"
                    "  name: \"lenient\"\n"
                    "  filters { attribute: \"brand\" any_of: \"acme\" keep_missing: true }\n"
                    "}\n",
                    kMovies),
              ElementsAre("shop.textproto:3:13: rule_sets[0].filters[0].attribute: no item of "
                          "the catalog (3 items) has a value for \"brand\", so the filter keeps "
                          "none of them, expected an attribute the catalog fills (or "
                          "keep_missing: true)",
                          "shop.textproto:7:13: warning: rule_sets[1].filters[0].attribute: no "
                          "item of the catalog (3 items) has a value for \"brand\": the filter "
                          "changes nothing"));
}

TEST(RulesCatalogCheckTest, FiltersKeepingNoItemAreErrors) {
  EXPECT_THAT(
      Check("rule_sets {\n"
            "  name: \"typo\"\n"
            "  filters { attribute: \"category\" any_of: [\"Comdy\", \"Dramma\"] }\n"
            "}\n"
            "rule_sets {\n"
            "  name: \"never\"\n"
            "  filters { attribute: \"in_stock\" equals: false }\n"
            "  filters { attribute: \"category\" any_of: \"Comedy\" }\n"
            "}\n",
            kMovies),
      ElementsAre(
          "shop.textproto:3:3: rule_sets[0].filters[0]: keeps none of the catalog's 3 items, "
          "expected a condition some item meets",
          "shop.textproto:5:1: rule_sets[1]: rule set \"never\": its filters together keep none "
          "of the catalog's 3 items, expected conditions some item meets at once",
          "shop.textproto:3:35: warning: rule_sets[0].filters[0].any_of[0]: no item of the "
          "catalog has category \"Comdy\"",
          "shop.textproto:3:35: warning: rule_sets[0].filters[0].any_of[1]: no item of the "
          "catalog has category \"Dramma\""));
}

TEST(RulesCatalogCheckTest, ValuesBoostsCapsAndPinsTheCatalogLacksAreWarnings) {
  EXPECT_THAT(
      Check("rule_sets {\n"
            "  name: \"s\"\n"
            "  filters { attribute: \"category\" none_of: \"Horor\" }\n"
            "  boosts { attribute: \"brand\" any_of: \"acme\" multiply: 2 }\n"
            "  boosts { age_half_life_days: 30 add_at_age_zero: 0.1 }\n"
            "  diversity { attribute: \"region\" max_per_value: 1 }\n"
            "  pins { item_id: \"99\" slot: 2 }\n"
            "}\n",
            kMovies),
      ElementsAre(
          "shop.textproto:3:35: warning: rule_sets[0].filters[0].none_of[0]: no item of the "
          "catalog has category \"Horor\"",
          "shop.textproto:4:12: warning: rule_sets[0].boosts[0].attribute: no item of the "
          "catalog (3 items) has a value for \"brand\": the boost applies to none",
          "shop.textproto:5:12: warning: rule_sets[0].boosts[1].age_half_life_days: no item of "
          "the catalog (3 items) has a value for \"created_at\": the age boost applies to none",
          "shop.textproto:6:15: warning: rule_sets[0].diversity[0].attribute: no item of the "
          "catalog (3 items) has a value for \"region\": the cap limits nothing",
          "shop.textproto:7:10: warning: rule_sets[0].pins[0].item_id: item \"99\" is not in "
          "the catalog, expected a catalog item (an item without attributes fails every filter "
          "that needs a value)"));
}

TEST(RulesCatalogCheckTest, AnEmptyCatalogIsAnErrorOfTheFile) {
  EXPECT_THAT(Check("blocklist: \"x\"\n", {}),
              ElementsAre("shop.textproto: the catalog has no items, expected the catalog the "
                          "rules are to serve with (load it with affinity-train catalog)"));
}

TEST(RulesFileTest, JsonFilesHaveNoPositions) {
  absl::StatusOr<RulesFile> file =
      ParseRulesFile("shop.json", R"({"ruleSets": [{"name": "a", "pins": [{"itemId": "1", "slot": 1}]}]})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Where({{"rule_sets", 0}, {"pins", 0}}), "shop.json: ");
  EXPECT_EQ(file->config().rule_sets(0).name(), "a");
  EXPECT_THAT(file->rules()->Names(), ElementsAre("a"));
}

}  // namespace
}  // namespace affinity::server::rules
