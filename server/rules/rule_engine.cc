#include "server/rules/rule_engine.h"

namespace affinity::server::rules {

RuleEngine::RuleEngine(std::shared_ptr<const CompiledRules> rules, CatalogView* catalog)
    : catalog_(catalog), rules_(std::move(rules)) {}

std::shared_ptr<const CompiledRules> RuleEngine::rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

void RuleEngine::SetRules(std::shared_ptr<const CompiledRules> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(rules);
}

std::shared_ptr<const PreparedRules> RuleEngine::Cached(uint64_t version) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  auto it = prepared_.find(version);
  return it == prepared_.end() ? nullptr : it->second;
}

std::shared_ptr<const PreparedRules> RuleEngine::Prepare(const LoadedModel& model) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  return PrepareLocked(model);
}

std::shared_ptr<const PreparedRules> RuleEngine::ForRequest(const LoadedModel& model) {
  std::shared_ptr<const PreparedRules> cached = Cached(model.version);
  if (cached != nullptr && cached->model == &model && cached->rules == rules()) {
    if (cached->catalog == catalog_->snapshot()) return cached;
    std::unique_lock<std::mutex> lock(prepare_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return cached;  // a catalog change is being prepared
    return PrepareLocked(model);
  }
  return Prepare(model);
}

std::shared_ptr<const PreparedRules> RuleEngine::PrepareLocked(const LoadedModel& model) {
  std::shared_ptr<const CompiledRules> rules = this->rules();
  std::shared_ptr<const CatalogSnapshot> catalog = catalog_->snapshot();
  std::shared_ptr<const PreparedRules> previous = Cached(model.version);
  const bool same_model_and_rules =
      previous != nullptr && previous->model == &model && previous->rules == rules;
  if (same_model_and_rules && previous->catalog == catalog) return previous;
  std::shared_ptr<const PreparedRules> next;
  if (same_model_and_rules) next = UpdatePreparedRules(*previous, catalog, model);
  if (next == nullptr) next = PrepareRules(std::move(rules), std::move(catalog), model);
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(hook_mu_);
    hook = prepare_hook_;
  }
  if (hook) hook();
  std::lock_guard<std::mutex> lock(cache_mu_);
  prepared_[model.version] = next;
  return next;
}

void RuleEngine::Retain(const std::set<uint64_t>& versions) {
  std::lock_guard<std::mutex> prepare_lock(prepare_mu_);
  std::lock_guard<std::mutex> lock(cache_mu_);
  for (auto it = prepared_.begin(); it != prepared_.end();) {
    it = versions.count(it->first) ? std::next(it) : prepared_.erase(it);
  }
}

}  // namespace affinity::server::rules
