#include "server/rules/compiled_rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace affinity::server::rules {
namespace {

using affinity::v1::CatalogItem;

bool AnyIn(const StringValues& values, const absl::flat_hash_set<std::string>& set) {
  for (absl::string_view v : values) {
    if (set.contains(v)) return true;
  }
  return false;
}

// Collects the first error with its path.
class Checker {
 public:
  explicit Checker(FieldPath* out) : out_(out) {}
  void Push(std::string field, int index = -1) { path_.emplace_back(std::move(field), index); }
  void Pop() { path_.pop_back(); }
  absl::Status Error(absl::string_view field, int index, absl::string_view message) {
    Push(std::string(field), index);
    absl::Status status =
        absl::InvalidArgumentError(absl::StrCat(FieldPathString(path_), ": ", message));
    if (out_ != nullptr) *out_ = path_;
    Pop();
    return status;
  }
  absl::Status Error(absl::string_view field, absl::string_view message) {
    return Error(field, -1, message);
  }

 private:
  FieldPath path_;
  FieldPath* out_;
};

// "2020-01-01" or RFC 3339.
absl::StatusOr<double> ParseDate(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error) ||
      absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return static_cast<double>(absl::ToUnixSeconds(t));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "expected a date like \"2020-01-01\" or \"2020-01-01T00:00:00Z\", got \"",
      text.substr(0, 64), "\""));
}

absl::Status CompileFilter(const affinity::v1::Filter& in, Checker& check, CompiledFilter* out) {
  absl::StatusOr<Attribute> attribute = ParseAttribute(in.attribute());
  if (!attribute.ok()) return check.Error("attribute", attribute.status().message());
  out->attribute = *attribute;
  out->keep_missing = in.keep_missing();
  const AttributeKind kind = KindOf(*attribute);
  const bool strings = !in.any_of().empty() || !in.none_of().empty();
  const bool range = in.has_min() || in.has_max();
  const bool dates = !in.newer_than().empty() || !in.older_than().empty();
  if (!strings && !range && !dates && !in.has_equals()) {
    return check.Error("attribute", absl::StrCat("filter on \"", in.attribute(),
                                                 "\" sets no condition (any_of, none_of, "
                                                 "min/max, equals, newer_than/older_than)"));
  }
  if (strings && kind != AttributeKind::kString) {
    return check.Error(in.any_of().empty() ? "none_of" : "any_of",
                       absl::StrCat("attribute \"", in.attribute(),
                                    "\" is not a string attribute"));
  }
  if (range && kind != AttributeKind::kNumber) {
    return check.Error(in.has_min() ? "min" : "max",
                       absl::StrCat("attribute \"", in.attribute(), "\" is not numeric"));
  }
  if (dates && *attribute != Attribute::kCreatedAt) {
    return check.Error(in.newer_than().empty() ? "older_than" : "newer_than",
                       "date conditions apply to created_at only");
  }
  // NaN compares false with everything: a NaN bound would keep every item.
  if (in.has_min() && !std::isfinite(in.min())) {
    return check.Error("min", absl::StrCat("expected a finite number, got ", in.min()));
  }
  if (in.has_max() && !std::isfinite(in.max())) {
    return check.Error("max", absl::StrCat("expected a finite number, got ", in.max()));
  }
  if (in.has_equals() && kind != AttributeKind::kBoolean) {
    return check.Error("equals",
                       absl::StrCat("attribute \"", in.attribute(), "\" is not boolean"));
  }
  out->any_of.insert(in.any_of().begin(), in.any_of().end());
  out->none_of.insert(in.none_of().begin(), in.none_of().end());
  if (in.has_min()) out->min = in.min();
  if (in.has_max()) out->max_inclusive = in.max();
  if (in.has_equals()) out->equals = in.equals();
  if (!in.newer_than().empty()) {
    absl::StatusOr<double> t = ParseDate(in.newer_than());
    if (!t.ok()) return check.Error("newer_than", t.status().message());
    out->min = out->min.has_value() ? std::max(*out->min, *t) : *t;
  }
  if (!in.older_than().empty()) {
    absl::StatusOr<double> t = ParseDate(in.older_than());
    if (!t.ok()) return check.Error("older_than", t.status().message());
    out->max_exclusive = *t;
  }
  return absl::OkStatus();
}

absl::Status CompileBoost(const affinity::v1::Boost& in, Checker& check, CompiledBoost* out) {
  if (in.age_half_life_days() < 0 || !std::isfinite(in.age_half_life_days())) {
    return check.Error("age_half_life_days", "expected a finite value >= 0");
  }
  if (in.has_multiply() && (!std::isfinite(in.multiply()) || in.multiply() < 0)) {
    return check.Error("multiply", "expected a finite value >= 0");
  }
  if (in.has_add() && !std::isfinite(in.add())) return check.Error("add", "expected a finite value");
  if (!std::isfinite(in.add_at_age_zero())) {
    return check.Error("add_at_age_zero", "expected a finite value");
  }
  out->multiply = in.has_multiply() ? in.multiply() : 1.0;
  out->add = in.has_add() ? in.add() : 0.0;
  if (in.age_half_life_days() > 0) {
    out->half_life_seconds = in.age_half_life_days() * 86400.0;
    out->add_at_age_zero = in.add_at_age_zero();
    out->description = absl::StrCat("age (half-life ", in.age_half_life_days(), " days)");
    return absl::OkStatus();
  }
  absl::StatusOr<Attribute> attribute = ParseAttribute(in.attribute());
  if (!attribute.ok()) return check.Error("attribute", attribute.status().message());
  if (KindOf(*attribute) != AttributeKind::kString) {
    return check.Error("attribute", absl::StrCat("boosts match string attributes; \"",
                                                 in.attribute(), "\" is not one"));
  }
  if (in.any_of().empty()) {
    return check.Error("any_of", "a boost by attribute needs at least one value");
  }
  if (!in.has_multiply() && !in.has_add()) {
    return check.Error("multiply", "a boost needs multiply or add");
  }
  out->attribute = *attribute;
  out->any_of.insert(in.any_of().begin(), in.any_of().end());
  out->description =
      absl::StrCat(in.attribute(), " in {", absl::StrJoin(in.any_of(), ","), "}");
  return absl::OkStatus();
}

absl::Status CompileRuleSet(const affinity::v1::RuleSet& in, int max_slot, Checker& check,
                            CompiledRuleSet* out) {
  out->name = in.name();
  out->exclude_seen = !in.include_seen();
  out->fallback = !in.no_fallback();
  for (int i = 0; i < in.filters_size(); ++i) {
    check.Push("filters", i);
    out->filters.emplace_back();
    absl::Status s = CompileFilter(in.filters(i), check, &out->filters.back());
    check.Pop();
    if (!s.ok()) return s;
  }
  for (int i = 0; i < in.boosts_size(); ++i) {
    check.Push("boosts", i);
    out->boosts.emplace_back();
    absl::Status s = CompileBoost(in.boosts(i), check, &out->boosts.back());
    check.Pop();
    if (!s.ok()) return s;
  }
  for (int i = 0; i < in.diversity_size(); ++i) {
    const affinity::v1::Diversity& d = in.diversity(i);
    check.Push("diversity", i);
    absl::StatusOr<Attribute> attribute = ParseAttribute(d.attribute());
    absl::Status s;
    if (!attribute.ok()) {
      s = check.Error("attribute", attribute.status().message());
    } else if (KindOf(*attribute) != AttributeKind::kString) {
      s = check.Error("attribute", absl::StrCat("diversity groups by a string attribute; \"",
                                                d.attribute(), "\" is not one"));
    } else if (d.max_per_value() < 1) {
      s = check.Error("max_per_value", absl::StrCat("expected >= 1, got ", d.max_per_value()));
    } else if (d.top() < 0) {
      s = check.Error("top", absl::StrCat("expected >= 0, got ", d.top()));
    } else {
      out->diversity.push_back(CompiledDiversity{*attribute, d.max_per_value(), d.top()});
    }
    check.Pop();
    if (!s.ok()) return s;
  }
  absl::flat_hash_set<int> slots;
  for (int i = 0; i < in.pins_size(); ++i) {
    const affinity::v1::Pin& p = in.pins(i);
    check.Push("pins", i);
    absl::Status s;
    if (p.item_id().empty()) {
      s = check.Error("item_id", "must not be empty");
    } else if (p.slot() < 1 || p.slot() > max_slot) {
      s = check.Error("slot", absl::StrCat("expected 1..", max_slot, ", got ", p.slot()));
    } else if (!slots.insert(p.slot()).second) {
      s = check.Error("slot", absl::StrCat("slot ", p.slot(), " is already pinned"));
    } else {
      out->pins.push_back(CompiledPin{p.item_id(), p.slot()});
    }
    check.Pop();
    if (!s.ok()) return s;
  }
  std::sort(out->pins.begin(), out->pins.end(),
            [](const CompiledPin& a, const CompiledPin& b) { return a.slot < b.slot; });
  return absl::OkStatus();
}

}  // namespace

std::string FieldPathString(const FieldPath& path) {
  std::string out;
  for (const auto& [field, index] : path) {
    if (!out.empty()) out += ".";
    out += field;
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
  }
  return out;
}

bool CompiledFilter::Passes(const CatalogItem* item) const {
  switch (KindOf(attribute)) {
    case AttributeKind::kString: {
      const StringValues values = StringValuesOf(attribute, item);
      if (values.empty()) return any_of.empty() || keep_missing;
      if (!any_of.empty() && !AnyIn(values, any_of)) return false;
      return none_of.empty() || !AnyIn(values, none_of);
    }
    case AttributeKind::kNumber: {
      const std::optional<double> v = NumberOf(attribute, item);
      if (!v.has_value()) return keep_missing;
      if (min.has_value() && *v < *min) return false;
      if (max_inclusive.has_value() && *v > *max_inclusive) return false;
      return !max_exclusive.has_value() || *v < *max_exclusive;
    }
    case AttributeKind::kBoolean: {
      const std::optional<bool> v = BooleanOf(attribute, item);
      if (!v.has_value()) return keep_missing;
      return !equals.has_value() || *v == *equals;
    }
  }
  return false;
}

std::optional<float> CompiledBoost::Apply(float score, const CatalogItem* item,
                                          int64_t now_unix) const {
  if (half_life_seconds > 0) {
    const std::optional<double> created = NumberOf(Attribute::kCreatedAt, item);
    if (!created.has_value()) return std::nullopt;
    const double age = std::max(0.0, static_cast<double>(now_unix) - *created);
    return static_cast<float>(score + add_at_age_zero * std::exp2(-age / half_life_seconds));
  }
  if (!AnyIn(StringValuesOf(attribute, item), any_of)) return std::nullopt;
  return static_cast<float>(score * multiply + add);
}

bool CompiledRuleSet::PassesFilters(const CatalogItem* item) const {
  for (const CompiledFilter& f : filters) {
    if (!f.Passes(item)) return false;
  }
  return true;
}

absl::StatusOr<std::vector<CompiledFilter>> CompileFilters(
    const std::vector<affinity::v1::Filter>& filters, absl::string_view field) {
  std::vector<CompiledFilter> out(filters.size());
  Checker check(nullptr);
  for (size_t i = 0; i < filters.size(); ++i) {
    check.Push(std::string(field), static_cast<int>(i));
    absl::Status s = CompileFilter(filters[i], check, &out[i]);
    check.Pop();
    if (!s.ok()) return s;
  }
  return out;
}

const CompiledRuleSet* CompiledRules::Find(absl::string_view name) const {
  if (auto it = sets_.find(name); it != sets_.end()) return &it->second;
  if (name.empty() || name == "default") {
    if (default_name_.empty()) return &empty_;
    return &sets_.find(default_name_)->second;
  }
  return nullptr;
}

std::vector<std::string> CompiledRules::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, set] : sets_) names.push_back(name);
  return names;
}

absl::StatusOr<std::shared_ptr<const CompiledRules>> CompileRules(
    const affinity::v1::RuleConfig& config, int max_slot, FieldPath* error_path) {
  auto rules = std::make_shared<CompiledRules>();
  Checker check(error_path);
  for (int i = 0; i < config.rule_sets_size(); ++i) {
    const affinity::v1::RuleSet& set = config.rule_sets(i);
    check.Push("rule_sets", i);
    absl::Status s;
    if (set.name().empty()) {
      s = check.Error("name", "must not be empty");
    } else if (rules->sets_.count(set.name()) > 0) {
      s = check.Error("name", absl::StrCat("duplicate rule set name \"", set.name(), "\""));
    } else {
      CompiledRuleSet compiled;
      s = CompileRuleSet(set, max_slot, check, &compiled);
      if (s.ok()) rules->sets_.emplace(set.name(), std::move(compiled));
    }
    check.Pop();
    if (!s.ok()) return s;
  }
  if (!config.default_rule_set().empty() &&
      rules->sets_.count(config.default_rule_set()) == 0) {
    return check.Error("default_rule_set", absl::StrCat("no rule set is named \"",
                                                        config.default_rule_set(), "\""));
  }
  rules->default_name_ = config.default_rule_set();
  for (int i = 0; i < config.blocklist_size(); ++i) {
    if (config.blocklist(i).empty()) return check.Error("blocklist", i, "must not be empty");
    rules->blocklist_.insert(config.blocklist(i));
  }
  return std::shared_ptr<const CompiledRules>(std::move(rules));
}

}  // namespace affinity::server::rules
