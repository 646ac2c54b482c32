// RuleEngine: the rules and catalog a server applies right now. Holds the
// current CompiledRules snapshot (swapped atomically on reload) and the
// CatalogView, and caches the PreparedRules of each serving model version
// (one per A/B arm's version) for the current catalog and rules: requests get a shared_ptr snapshot and keep it to the
// end; the first request after any of the three changed prepares the new
// one (others wait for it; the server's poll thread and admin writes do it
// ahead of requests). A catalog changed only by this server's admin writes
// is applied incrementally (only the changed items are re-evaluated).
#ifndef AFFINITY_SERVER_RULES_RULE_ENGINE_H_
#define AFFINITY_SERVER_RULES_RULE_ENGINE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/lifecycle/loaded_model.h"
#include "server/rules/catalog_view.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/prepared_rules.h"

namespace affinity::server::rules {

class RuleEngine {
 public:
  // `catalog` must outlive the engine.
  RuleEngine(std::shared_ptr<const CompiledRules> rules, CatalogView* catalog);

  std::shared_ptr<const CompiledRules> rules() const;
  void SetRules(std::shared_ptr<const CompiledRules> rules);
  CatalogView* catalog() const { return catalog_; }

  // True when a request may name this rule set.
  bool Known(absl::string_view name) const { return rules()->Find(name) != nullptr; }

  std::shared_ptr<const PreparedRules> Prepare(const LoadedModel& model);

  // Drops the cached preparations of versions not in `versions` (called
  // when the serving versions change).
  void Retain(const std::set<uint64_t>& versions);

 private:
  CatalogView* catalog_;
  mutable std::mutex mu_;
  std::shared_ptr<const CompiledRules> rules_;  // guarded by mu_
  std::mutex prepare_mu_;
  // By model version; guarded by prepare_mu_.
  std::map<uint64_t, std::shared_ptr<const PreparedRules>> prepared_;
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_ENGINE_H_
