#include "server/rules/rule_metrics.h"

#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace affinity::server::rules {
namespace {

struct Row {
  const char* stage;
  const char* action;
  uint64_t RuleCounts::*field;
};

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"filter", "dropped", &RuleCounts::filter_dropped},
      {"exclude", "dropped", &RuleCounts::exclude_dropped},
      {"boost", "boosted", &RuleCounts::boosted},
      {"diversity", "dropped", &RuleCounts::diversity_dropped},
      {"pin", "pinned", &RuleCounts::pinned},
      {"pin", "dropped", &RuleCounts::pin_dropped},
      {"fallback", "fallback", &RuleCounts::fallback},
  };
  return rows;
}

}  // namespace

void RuleMetrics::Record(absl::string_view rule_set, const RuleCounts& counts,
                         bool empty_answer) {
  const std::string name = rule_set.empty() ? "default" : std::string(rule_set);
  std::lock_guard<std::mutex> lock(mu_);
  Counters& c = by_set_[name];
  for (const Row& row : Rows()) c.counts.*row.field += counts.*row.field;
  c.counts.refetches += counts.refetches;
  c.empty_answers += empty_answer;
}

uint64_t RuleMetrics::items(absl::string_view rule_set, absl::string_view stage,
                            absl::string_view action) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_set_.find(rule_set);
  if (it == by_set_.end()) return 0;
  for (const Row& row : Rows()) {
    if (stage == row.stage && action == row.action) return it->second.counts.*row.field;
  }
  return 0;
}

uint64_t RuleMetrics::empty_answers(absl::string_view rule_set) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_set_.find(rule_set);
  return it == by_set_.end() ? 0 : it->second.empty_answers;
}

std::string RuleMetrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out =
      "# HELP affinity_rule_items_total Items touched by business rules, per rule set, "
      "stage and action.\n# TYPE affinity_rule_items_total counter\n";
  for (const auto& [name, c] : by_set_) {
    for (const Row& row : Rows()) {
      absl::StrAppend(&out, "affinity_rule_items_total{rule_set=\"", name, "\",stage=\"",
                      row.stage, "\",action=\"", row.action, "\"} ", c.counts.*row.field, "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP affinity_rule_empty_answers_total Answers left empty by the rules.\n"
                  "# TYPE affinity_rule_empty_answers_total counter\n");
  for (const auto& [name, c] : by_set_) {
    absl::StrAppend(&out, "affinity_rule_empty_answers_total{rule_set=\"", name, "\"} ",
                    c.empty_answers, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP affinity_rule_refetches_total Answers scored a second time with the "
                  "full over-fetch (diversity could not fill k from the first).\n"
                  "# TYPE affinity_rule_refetches_total counter\n");
  for (const auto& [name, c] : by_set_) {
    absl::StrAppend(&out, "affinity_rule_refetches_total{rule_set=\"", name, "\"} ",
                    c.counts.refetches, "\n");
  }
  return out;
}

}  // namespace affinity::server::rules
