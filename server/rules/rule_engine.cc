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
  if (prepared_ != nullptr && prepared_->model == &model &&
      prepared_->model_version == model.version && prepared_->rules == rules &&
      prepared_->catalog == catalog) {
    return prepared_;
  }
  if (prepared_ != nullptr && prepared_->rules == rules) {
    if (auto updated = UpdatePreparedRules(*prepared_, catalog, model)) {
      prepared_ = std::move(updated);
      return prepared_;
    }
  }
  prepared_ = PrepareRules(std::move(rules), std::move(catalog), model);
  return prepared_;
}

}  // namespace affinity::server::rules
