#include "server/rules/rule_engine.h"

#include <utility>

namespace affinity::server::rules {

RuleEngine::RuleEngine(std::shared_ptr<const CompiledRules> rules, CatalogView* catalog)
    : catalog_(catalog) {
  auto initial = std::make_shared<Snapshot>();
  initial->rules = std::move(rules);
  current_ = std::move(initial);
}

std::shared_ptr<const RuleEngine::Snapshot> RuleEngine::Current() const {
  std::lock_guard<std::mutex> lock(current_mu_);
  return current_;
}

void RuleEngine::Publish(std::shared_ptr<const Snapshot> next) {
  std::lock_guard<std::mutex> lock(current_mu_);
  current_ = std::move(next);
}

std::shared_ptr<const CompiledRules> RuleEngine::rules() const { return Current()->rules; }

void RuleEngine::SetServingModels(ServingModels serving) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  serving_ = std::move(serving);
}

void RuleEngine::SetRules(std::shared_ptr<const CompiledRules> rules) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  auto next = std::make_shared<Snapshot>();
  next->rules = std::move(rules);
  if (serving_) {
    for (const std::shared_ptr<const LoadedModel>& model : serving_()) {
      if (model == nullptr || next->prepared.count(model->version)) continue;
      next->prepared[model->version] = PrepareFor(next->rules, nullptr, *model);
    }
  }
  Publish(std::move(next));
}

std::shared_ptr<const PreparedRules> RuleEngine::Prepare(const LoadedModel& model) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  const std::shared_ptr<const Snapshot> current = Current();
  auto found = current->prepared.find(model.version);
  std::shared_ptr<const PreparedRules> previous =
      found == current->prepared.end() ? nullptr : found->second;
  std::shared_ptr<const PreparedRules> prepared = PrepareFor(current->rules, previous, model);
  if (prepared == previous) return prepared;
  auto next = std::make_shared<Snapshot>(*current);
  next->prepared[model.version] = prepared;
  Publish(std::move(next));
  return prepared;
}

std::shared_ptr<const PreparedRules> RuleEngine::ForRequest(const LoadedModel& model) {
  {
    const std::shared_ptr<const Snapshot> current = Current();
    auto found = current->prepared.find(model.version);
    if (found != current->prepared.end() && found->second->model == &model) return found->second;
  }
  prepared_on_request_.fetch_add(1, std::memory_order_relaxed);
  return Prepare(model);
}

std::shared_ptr<const PreparedRules> RuleEngine::PrepareFor(
    const std::shared_ptr<const CompiledRules>& rules,
    const std::shared_ptr<const PreparedRules>& previous, const LoadedModel& model) {
  std::shared_ptr<const CatalogSnapshot> catalog = catalog_->snapshot();
  const bool same_model_and_rules =
      previous != nullptr && previous->model == &model && previous->rules == rules;
  if (same_model_and_rules && previous->catalog == catalog) return previous;
  std::shared_ptr<const PreparedRules> next;
  if (same_model_and_rules) next = UpdatePreparedRules(*previous, catalog, model);
  if (next == nullptr) next = PrepareRules(rules, std::move(catalog), model);
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(hook_mu_);
    hook = prepare_hook_;
  }
  if (hook) hook();
  return next;
}

void RuleEngine::Retain(const std::set<uint64_t>& versions) {
  std::lock_guard<std::mutex> lock(prepare_mu_);
  const std::shared_ptr<const Snapshot> current = Current();
  auto next = std::make_shared<Snapshot>();
  next->rules = current->rules;
  for (const auto& [version, prepared] : current->prepared) {
    if (versions.count(version)) next->prepared.emplace(version, prepared);
  }
  Publish(std::move(next));
}

}  // namespace affinity::server::rules
