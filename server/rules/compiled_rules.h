// CompiledRules: a validated affinity.v1.RuleConfig in the form the request
// path uses (attribute enums, hash sets, parsed dates). Immutable once
// built; the server swaps whole snapshots (shared_ptr) when the file
// changes.
//
// CompileRules checks what the proto's types cannot: known attribute names,
// conditions that fit the attribute's kind, finite min/max, parseable
// dates, pin slots in
// 1..max_slot, caps >= 1, unique non-empty rule set names, a default that
// exists. Errors name the field (rule_sets[1].filters[0].attribute: ...)
// and, through `error_path`, let the loader point at the file's line.
#ifndef AFFINITY_SERVER_RULES_COMPILED_RULES_H_
#define AFFINITY_SERVER_RULES_COMPILED_RULES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"
#include "affinity/v1/rules.pb.h"
#include "server/rules/item_attributes.h"

namespace affinity::server::rules {

// A field path: (field name, index or -1 for singular fields).
using FieldPath = std::vector<std::pair<std::string, int>>;
// "rule_sets[1].filters[0].attribute"
std::string FieldPathString(const FieldPath& path);

class CompiledRules;

// InvalidArgument "<field path>: <what was expected>" on the first
// semantic error; `error_path` (may be null) receives the field's path.
absl::StatusOr<std::shared_ptr<const CompiledRules>> CompileRules(
    const affinity::v1::RuleConfig& config, int max_slot = 1000,
    FieldPath* error_path = nullptr);

struct CompiledFilter {
  Attribute attribute = Attribute::kCategory;
  absl::flat_hash_set<std::string> any_of;
  absl::flat_hash_set<std::string> none_of;
  std::optional<double> min;
  std::optional<double> max_inclusive;
  std::optional<double> max_exclusive;  // older_than
  std::optional<bool> equals;
  bool keep_missing = false;

  // `item` null: not in the catalog.
  bool Passes(const affinity::v1::CatalogItem* item) const;
};

struct CompiledBoost {
  Attribute attribute = Attribute::kCategory;
  absl::flat_hash_set<std::string> any_of;
  double multiply = 1;
  double add = 0;
  double half_life_seconds = 0;  // > 0: age decay
  double add_at_age_zero = 0;
  std::string description;  // for explanations, e.g. "brand in {acme}"

  // The boosted score, or nullopt when the boost does not apply to `item`.
  std::optional<float> Apply(float score, const affinity::v1::CatalogItem* item,
                             int64_t now_unix) const;
};

struct CompiledDiversity {
  Attribute attribute = Attribute::kPrimaryCategory;
  int max_per_value = 1;
  int top = 0;  // 0: the whole answer
};

struct CompiledPin {
  std::string item_id;
  int slot = 1;  // 1-based
};

struct CompiledRuleSet {
  std::string name;
  std::vector<CompiledFilter> filters;
  bool exclude_seen = true;
  std::vector<CompiledBoost> boosts;
  std::vector<CompiledDiversity> diversity;
  std::vector<CompiledPin> pins;  // ascending slot
  bool fallback = true;

  bool PassesFilters(const affinity::v1::CatalogItem* item) const;
  bool Empty() const {
    return filters.empty() && boosts.empty() && diversity.empty() && pins.empty();
  }
};

// Filters given with a request (they narrow the rule set's filters).
// InvalidArgument "<field>[i].<subfield>: ..." on the first bad filter.
absl::StatusOr<std::vector<CompiledFilter>> CompileFilters(
    const std::vector<affinity::v1::Filter>& filters, absl::string_view field = "filters");

class CompiledRules {
 public:
  // The rule set a request names: "" and "default" select the configured
  // default (an empty rule set when none is configured, unless a set is
  // literally named "default"). Null when the name is unknown.
  const CompiledRuleSet* Find(absl::string_view name) const;
  const absl::flat_hash_set<std::string>& blocklist() const { return blocklist_; }
  // Names of the configured rule sets, sorted.
  std::vector<std::string> Names() const;

 private:
  friend absl::StatusOr<std::shared_ptr<const CompiledRules>> CompileRules(
      const affinity::v1::RuleConfig&, int, FieldPath*);
  std::map<std::string, CompiledRuleSet, std::less<>> sets_;
  std::string default_name_;
  CompiledRuleSet empty_;
  absl::flat_hash_set<std::string> blocklist_;
};


}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_COMPILED_RULES_H_
