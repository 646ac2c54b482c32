#include "server/rules/rules_catalog_check.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace affinity::server::rules {
namespace {

constexpr Attribute kAttributes[] = {
    Attribute::kCategory, Attribute::kPrimaryCategory, Attribute::kBrand,
    Attribute::kRegion,   Attribute::kTag,             Attribute::kItemId,
    Attribute::kPrice,    Attribute::kCreatedAt,       Attribute::kInStock,
};

bool HasValue(Attribute attribute, const affinity::v1::CatalogItem& item) {
  switch (KindOf(attribute)) {
    case AttributeKind::kString:
      return !StringValuesOf(attribute, &item).empty();
    case AttributeKind::kNumber:
      return NumberOf(attribute, &item).has_value();
    case AttributeKind::kBoolean:
      return BooleanOf(attribute, &item).has_value();
  }
  return false;
}

FieldPath Path(std::initializer_list<std::pair<std::string, int>> parts) {
  return FieldPath(parts);
}

RulesFinding Finding(bool error, FieldPath field, absl::string_view what) {
  RulesFinding finding;
  finding.error = error;
  finding.message = field.empty() ? std::string(what)
                                  : absl::StrCat(FieldPathString(field), ": ", what);
  finding.field = std::move(field);
  return finding;
}

}  // namespace

RulesCatalogCheck::RulesCatalogCheck(const affinity::v1::RuleConfig& config)
    : config_(config), rule_set_kept_(config.rule_sets_size()) {
  auto want = [this](absl::string_view name,
                     const google::protobuf::RepeatedPtrField<std::string>& values) {
    absl::StatusOr<Attribute> attribute = ParseAttribute(name);
    if (!attribute.ok()) return;
    wanted_[*attribute].insert(values.begin(), values.end());
  };
  for (int s = 0; s < config.rule_sets_size(); ++s) {
    const affinity::v1::RuleSet& set = config.rule_sets(s);
    for (int f = 0; f < set.filters_size(); ++f) {
      absl::StatusOr<std::vector<CompiledFilter>> compiled = CompileFilters({set.filters(f)});
      if (!compiled.ok() || compiled->size() != 1) continue;  // CompileRules refused it
      filters_.push_back({s, f, std::move(compiled->front()), 0});
      want(set.filters(f).attribute(), set.filters(f).any_of());
      want(set.filters(f).attribute(), set.filters(f).none_of());
    }
    for (const affinity::v1::Boost& boost : set.boosts()) want(boost.attribute(), boost.any_of());
    for (const affinity::v1::Pin& pin : set.pins()) wanted_[Attribute::kItemId].insert(pin.item_id());
  }
}

void RulesCatalogCheck::Add(const affinity::v1::CatalogItem& item) {
  ++items_;
  for (Attribute attribute : kAttributes) {
    if (HasValue(attribute, item)) ++with_value_[attribute];
  }
  std::vector<bool> set_passes(rule_set_kept_.size(), true);
  for (FilterProbe& probe : filters_) {
    if (probe.filter.Passes(&item)) {
      ++probe.kept;
    } else {
      set_passes[probe.rule_set] = false;
    }
  }
  for (size_t s = 0; s < set_passes.size(); ++s) rule_set_kept_[s] += set_passes[s];
  for (const auto& [attribute, values] : wanted_) {
    for (absl::string_view value : StringValuesOf(attribute, &item)) {
      auto it = values.find(value);
      if (it != values.end()) seen_[attribute].insert(*it);
    }
  }
}

std::vector<RulesFinding> RulesCatalogCheck::Findings() const {
  std::vector<RulesFinding> errors;
  std::vector<RulesFinding> warnings;
  if (items_ == 0) {
    errors.push_back(Finding(true, {},
                             "the catalog has no items, expected the catalog the rules are to "
                             "serve with (load it with affinity-train catalog)"));
    return errors;
  }
  const std::string of_catalog = absl::StrCat("the catalog's ", items_, " items");
  auto lacks = [this](absl::string_view name) {
    absl::StatusOr<Attribute> attribute = ParseAttribute(name);
    return attribute.ok() && !with_value_.contains(*attribute);
  };
  auto unseen = [this](absl::string_view name, const std::string& value) {
    absl::StatusOr<Attribute> attribute = ParseAttribute(name);
    if (!attribute.ok()) return false;
    auto it = seen_.find(*attribute);
    return it == seen_.end() || !it->second.contains(value);
  };
  auto no_value = [&](absl::string_view name) {
    return absl::StrCat("no item of the catalog (", items_, " items) has a value for \"", name,
                        "\"");
  };
  // Values of a string attribute the catalog holds, but not these.
  auto check_values = [&](int s, absl::string_view group, int g, absl::string_view attribute,
                          absl::string_view list,
                          const google::protobuf::RepeatedPtrField<std::string>& values) {
    for (int v = 0; v < values.size(); ++v) {
      if (!unseen(attribute, values[v])) continue;
      warnings.push_back(Finding(
          false,
          Path({{"rule_sets", s}, {std::string(group), g}, {std::string(list), v}}),
          absl::StrCat("no item of the catalog has ", attribute, " \"", values[v], "\"")));
    }
  };

  for (const FilterProbe& probe : filters_) {
    const affinity::v1::Filter& filter = config_.rule_sets(probe.rule_set).filters(probe.index);
    const int s = probe.rule_set;
    const int f = probe.index;
    if (lacks(filter.attribute())) {
      if (probe.kept == 0) {
        errors.push_back(Finding(
            true, Path({{"rule_sets", s}, {"filters", f}, {"attribute", -1}}),
            absl::StrCat(no_value(filter.attribute()),
                         ", so the filter keeps none of them, expected an attribute the "
                         "catalog fills (or keep_missing: true)")));
      } else {
        warnings.push_back(Finding(false,
                                   Path({{"rule_sets", s}, {"filters", f}, {"attribute", -1}}),
                                   absl::StrCat(no_value(filter.attribute()),
                                                ": the filter changes nothing")));
      }
      continue;
    }
    if (probe.kept == 0) {
      errors.push_back(Finding(true, Path({{"rule_sets", s}, {"filters", f}}),
                               absl::StrCat("keeps none of ", of_catalog,
                                            ", expected a condition some item meets")));
    }
    check_values(s, "filters", f, filter.attribute(), "any_of", filter.any_of());
    check_values(s, "filters", f, filter.attribute(), "none_of", filter.none_of());
  }

  for (int s = 0; s < config_.rule_sets_size(); ++s) {
    const affinity::v1::RuleSet& set = config_.rule_sets(s);
    bool each_keeps_some = set.filters_size() > 1;
    for (const FilterProbe& probe : filters_) {
      if (probe.rule_set == s && probe.kept == 0) each_keeps_some = false;
    }
    if (each_keeps_some && rule_set_kept_[s] == 0) {
      errors.push_back(Finding(true, Path({{"rule_sets", s}}),
                               absl::StrCat("rule set \"", set.name(),
                                            "\": its filters together keep none of ",
                                            of_catalog, ", expected conditions some item "
                                            "meets at once")));
    }
    for (int b = 0; b < set.boosts_size(); ++b) {
      const affinity::v1::Boost& boost = set.boosts(b);
      if (boost.age_half_life_days() > 0) {
        if (lacks("created_at")) {
          warnings.push_back(Finding(
              false, Path({{"rule_sets", s}, {"boosts", b}, {"age_half_life_days", -1}}),
              absl::StrCat(no_value("created_at"), ": the age boost applies to none")));
        }
        continue;
      }
      if (lacks(boost.attribute())) {
        warnings.push_back(Finding(false,
                                   Path({{"rule_sets", s}, {"boosts", b}, {"attribute", -1}}),
                                   absl::StrCat(no_value(boost.attribute()),
                                                ": the boost applies to none")));
        continue;
      }
      check_values(s, "boosts", b, boost.attribute(), "any_of", boost.any_of());
    }
    for (int d = 0; d < set.diversity_size(); ++d) {
      if (lacks(set.diversity(d).attribute())) {
        warnings.push_back(Finding(
            false, Path({{"rule_sets", s}, {"diversity", d}, {"attribute", -1}}),
            absl::StrCat(no_value(set.diversity(d).attribute()), ": the cap limits nothing")));
      }
    }
    for (int p = 0; p < set.pins_size(); ++p) {
      if (!unseen("item_id", set.pins(p).item_id())) continue;
      warnings.push_back(Finding(
          false, Path({{"rule_sets", s}, {"pins", p}, {"item_id", -1}}),
          absl::StrCat("item \"", set.pins(p).item_id(),
                       "\" is not in the catalog, expected a catalog item (an item without "
                       "attributes fails every filter that needs a value)")));
    }
  }
  errors.insert(errors.end(), std::make_move_iterator(warnings.begin()),
                std::make_move_iterator(warnings.end()));
  return errors;
}

}  // namespace affinity::server::rules
