// RuleMetrics: per rule set and stage, how many items the rules dropped,
// boosted, pinned or added as fallback, and how many answers came out
// empty, and how many were scored twice (RuleCounts::refetches); rendered
// in the Prometheus text format as
//   affinity_rule_items_total{rule_set,stage,action}
//   affinity_rule_empty_answers_total{rule_set}
//   affinity_rule_refetches_total{rule_set}
#ifndef AFFINITY_SERVER_RULES_RULE_METRICS_H_
#define AFFINITY_SERVER_RULES_RULE_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "server/rules/rule_pipeline.h"

namespace affinity::server::rules {

class RuleMetrics {
 public:
  void Record(absl::string_view rule_set, const RuleCounts& counts, bool empty_answer);
  // 0 when never counted.
  uint64_t items(absl::string_view rule_set, absl::string_view stage,
                 absl::string_view action) const;
  uint64_t empty_answers(absl::string_view rule_set) const;
  std::string Render() const;

 private:
  struct Counters {
    RuleCounts counts;
    uint64_t empty_answers = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Counters, std::less<>> by_set_;
};

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_METRICS_H_
