// Checks a rules config against a catalog: what the server cannot refuse
// when it loads rules, because the catalog changes while it serves, but
// what makes a rule set serve nothing or do nothing with the catalog at
// hand. Errors: a filter (or a rule set's filters together) keeping none of
// the catalog's items, e.g. on an attribute no item has a value for.
// Warnings: conditions, boosts, caps and pins that cannot apply (a value,
// an attribute or a pinned item the catalog lacks), e.g. a misspelt
// category in none_of. Not thread-safe; one pass over the catalog.
#ifndef AFFINITY_SERVER_RULES_RULES_CATALOG_CHECK_H_
#define AFFINITY_SERVER_RULES_RULES_CATALOG_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "affinity/v1/model.pb.h"
#include "affinity/v1/rules.pb.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/item_attributes.h"

namespace affinity::server::rules {

struct RulesFinding {
  bool error = false;  // else a warning
  FieldPath field;     // empty: the file as a whole
  // "<field path>: what, expected what", like CompileRules' errors.
  std::string message;
};

class RulesCatalogCheck {
 public:
  // `config` must have compiled (CompileRules); the check keeps a reference.
  explicit RulesCatalogCheck(const affinity::v1::RuleConfig& config);

  // Every catalog item, once each.
  void Add(const affinity::v1::CatalogItem& item);
  // After the last Add: the errors, then the warnings.
  std::vector<RulesFinding> Findings() const;

 private:
  struct FilterProbe {
    int rule_set = 0;
    int index = 0;
    CompiledFilter filter;
    int64_t kept = 0;
  };

  const affinity::v1::RuleConfig& config_;
  int64_t items_ = 0;
  std::vector<FilterProbe> filters_;
  std::vector<int64_t> rule_set_kept_;  // items passing all of a set's filters
  // Items with a value, per attribute.
  absl::flat_hash_map<Attribute, int64_t> with_value_;
  // String values the rules name, per attribute, and those some item has.
  absl::flat_hash_map<Attribute, absl::flat_hash_set<std::string>> wanted_;
  absl::flat_hash_map<Attribute, absl::flat_hash_set<std::string>> seen_;
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULES_CATALOG_CHECK_H_
