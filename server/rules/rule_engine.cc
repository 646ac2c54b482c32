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

std::shared_ptr<const PreparedRules> RuleEngine::Prepare(const LoadedModel& model) {
  std::shared_ptr<const CompiledRules> rules = this->rules();
  std::shared_ptr<const CatalogSnapshot> catalog = catalog_->snapshot();
  std::lock_guard<std::mutex> lock(prepare_mu_);
  std::shared_ptr<const PreparedRules>& prepared = prepared_[model.version];
  if (prepared != nullptr && prepared->model == &model && prepared->rules == rules &&
      prepared->catalog == catalog) {
    return prepared;
  }
  if (prepared != nullptr && prepared->model == &model && prepared->rules == rules) {
    if (auto updated = UpdatePreparedRules(*prepared, catalog, model)) {
      prepared = std::move(updated);
      return prepared;
    }
  }
  prepared = PrepareRules(std::move(rules), std::move(catalog), model);
  return prepared;
}

void RuleEngine::Retain(const std::set<uint64_t>& versions) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  for (auto it = prepared_.begin(); it != prepared_.end();) {
    it = versions.count(it->first) ? std::next(it) : prepared_.erase(it);
  }
}

}  // namespace affinity::server::rules
