// RuleEngine: the rules and catalog a server applies right now, and per
// serving model version the PreparedRules of those rules over that catalog.
// Rules and preparations form one immutable snapshot, replaced whole, so a
// request always applies a preparation made with the rules it reads.
//
// Preparing (evaluating the rules over the catalog for a version) is the
// work of the threads that change something, never of a request:
//  - a version is prepared before it serves (the model manager's warm-up
//    calls Prepare);
//  - a rules reload (SetRules) prepares every serving version for the new
//    rules before they take effect;
//  - a catalog change is prepared by whoever made it (admin writes, the
//    store poll) through Prepare; until then requests keep the previous
//    preparation, made with the catalog as it was a moment before.
// ForRequest only copies the snapshot pointer (a mutex held for that copy,
// never across a preparation). It prepares only a version that was never
// prepared (a model served without the warm-up), and counts it.
// Preparations run one at a time. A catalog changed only by this server's
// admin writes is applied incrementally (only the changed items are
// re-evaluated). Thread-safe.
#ifndef AFFINITY_SERVER_RULES_RULE_ENGINE_H_
#define AFFINITY_SERVER_RULES_RULE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/lifecycle/loaded_model.h"
#include "server/rules/catalog_view.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/prepared_rules.h"

namespace affinity::server::rules {

class RuleEngine {
 public:
  // The versions serving now (arms and shadow); SetRules prepares them.
  using ServingModels = std::function<std::vector<std::shared_ptr<const LoadedModel>>()>;

  // `catalog` must outlive the engine.
  RuleEngine(std::shared_ptr<const CompiledRules> rules, CatalogView* catalog);

  std::shared_ptr<const CompiledRules> rules() const;
  // Prepares every version `serving` returns (see SetServingModels) for
  // `rules`, then makes the rules and those preparations current together.
  void SetRules(std::shared_ptr<const CompiledRules> rules);
  void SetServingModels(ServingModels serving);
  CatalogView* catalog() const { return catalog_; }

  // True when a request may name this rule set.
  bool Known(absl::string_view name) const { return rules()->Find(name) != nullptr; }

  // Prepares `model` for the current rules and catalog (waits for another
  // thread's preparation to finish first) and makes it current.
  std::shared_ptr<const PreparedRules> Prepare(const LoadedModel& model);

  // What a request applies: the current preparation of `model`'s version.
  std::shared_ptr<const PreparedRules> ForRequest(const LoadedModel& model);

  // Requests that found their version unprepared and prepared it themselves.
  uint64_t prepared_on_request() const { return prepared_on_request_.load(); }

  // Drops the preparations of versions not in `versions` (called when the
  // serving versions change).
  void Retain(const std::set<uint64_t>& versions);

  // Called by the preparing thread after computing a preparation and
  // before publishing it (tests pause a preparation with it). Thread-safe.
  void SetPrepareHookForTesting(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(hook_mu_);
    prepare_hook_ = std::move(hook);
  }

 private:
  // The rules and, by model version, their preparations. Immutable.
  struct Snapshot {
    std::shared_ptr<const CompiledRules> rules;
    std::map<uint64_t, std::shared_ptr<const PreparedRules>> prepared;
  };

  std::shared_ptr<const Snapshot> Current() const;
  // Requires prepare_mu_.
  void Publish(std::shared_ptr<const Snapshot> next);
  // `previous` may be null. Requires prepare_mu_.
  std::shared_ptr<const PreparedRules> PrepareFor(
      const std::shared_ptr<const CompiledRules>& rules,
      const std::shared_ptr<const PreparedRules>& previous, const LoadedModel& model);

  CatalogView* catalog_;
  // Held while preparing and publishing; never by a request that has a
  // preparation to use.
  std::mutex prepare_mu_;
  ServingModels serving_;  // guarded by prepare_mu_
  // Held only to copy or replace current_.
  mutable std::mutex current_mu_;
  std::shared_ptr<const Snapshot> current_;  // guarded by current_mu_
  std::atomic<uint64_t> prepared_on_request_{0};
  std::mutex hook_mu_;
  std::function<void()> prepare_hook_;  // guarded by hook_mu_
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_ENGINE_H_
