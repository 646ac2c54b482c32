// RuleEngine: the rules and catalog a server applies right now. Holds the
// current CompiledRules snapshot (swapped atomically on reload) and the
// CatalogView, and caches the PreparedRules of each serving model version
// (one per A/B arm's version) for the current catalog and rules. Callers
// get a shared_ptr snapshot and keep it to the end.
//
// Preparing (evaluating the rules over the catalog for a version) is done
// by one thread at a time. Prepare() waits its turn and returns what is
// current; the server's poll thread and admin writes call it ahead of
// requests. ForRequest() never waits for a preparation of a catalog change:
// while one is in progress it returns the version's previous preparation
// (the catalog as it was a moment before), so an admin write never stalls
// serving. It waits only when its version has no preparation yet, or one
// for other rules (a rules file reloaded; a request could name a new rule
// set). A catalog changed only by this server's admin writes is applied
// incrementally (only the changed items are re-evaluated). Thread-safe.
#ifndef AFFINITY_SERVER_RULES_RULE_ENGINE_H_
#define AFFINITY_SERVER_RULES_RULE_ENGINE_H_

#include <cstdint>
#include <functional>
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

  // The preparation for the current rules and catalog (waits for another
  // thread's preparation to finish first).
  std::shared_ptr<const PreparedRules> Prepare(const LoadedModel& model);

  // What a request applies: as Prepare, except that while another thread
  // prepares a catalog change it returns the previous preparation at once.
  std::shared_ptr<const PreparedRules> ForRequest(const LoadedModel& model);

  // Drops the cached preparations of versions not in `versions` (called
  // when the serving versions change).
  void Retain(const std::set<uint64_t>& versions);

  // Called by the preparing thread after computing a preparation and
  // before publishing it (tests pause a preparation with it). Thread-safe.
  void SetPrepareHookForTesting(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(hook_mu_);
    prepare_hook_ = std::move(hook);
  }

 private:
  std::shared_ptr<const PreparedRules> Cached(uint64_t version) const;
  // Requires prepare_mu_.
  std::shared_ptr<const PreparedRules> PrepareLocked(const LoadedModel& model);

  CatalogView* catalog_;
  mutable std::mutex mu_;
  std::shared_ptr<const CompiledRules> rules_;  // guarded by mu_
  // Held while preparing; never by a request that has a preparation to use.
  std::mutex prepare_mu_;
  // Held only to read or replace an entry of prepared_.
  mutable std::mutex cache_mu_;
  // By model version; guarded by cache_mu_, written with prepare_mu_ held.
  std::map<uint64_t, std::shared_ptr<const PreparedRules>> prepared_;
  std::mutex hook_mu_;
  std::function<void()> prepare_hook_;  // guarded by hook_mu_
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_ENGINE_H_
