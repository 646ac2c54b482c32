// The whole business-rule pipeline for one request, in this order:
//   1. filter    static filters of the rule set + global blocklist, as an
//                allowed-items bitmap tested inside the top-k scan (so the
//                scan returns only valid items; a small allowed set is
//                scored alone, see exact_scorer.h); request filters narrow
//                it per request, tested like the bitmap only on candidates
//                (RequestFilterPredicate: no per-request work or memory
//                that grows with the catalog)
//   2. exclude   seen items (unless the rule set includes them), the
//                request's exclusions: skipped inside the scan too
//   3. boost     score changes on the over-fetched candidates, re-sorted
//   4. diversity caps per attribute value
//   5. pin       items at fixed slots when they pass the filters and the
//                blocklist and the request does not exclude them by id
//                (a pin is placed even when the user has seen the item)
//   6. fallback  pad to k from popular model items, then catalog-only
//                items, that pass the same filters (from_fallback)
// Over-fetch: the scan asks for k + pins when only filters apply, and for
// min(max(4k, k + 200), allowed) candidates when boosts or diversity may
// reorder them. With diversity and no boosts, and a scorer whose answers
// are prefixes of each other (RuleRequest::score_is_prefix_stable), it asks
// for max(4k, k + pins) first and for the full count only when the
// diversity stage cannot fill k from those (RuleCounts::refetches): the
// stage takes each slot's first fitting item in score order, so the answer
// is the full count's.
#ifndef AFFINITY_SERVER_RULES_RULE_PIPELINE_H_
#define AFFINITY_SERVER_RULES_RULE_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/rules/prepared_rules.h"
#include "server/rules/rule_stages.h"
#include "server/scoring/scorer.h"
#include "server/scoring/top_k.h"

namespace affinity::server::rules {

// Per stage, what the rules did to one answer (for metrics).
struct RuleCounts {
  uint64_t filter_dropped = 0;
  uint64_t exclude_dropped = 0;
  uint64_t boosted = 0;
  uint64_t diversity_dropped = 0;
  uint64_t pinned = 0;
  uint64_t pin_dropped = 0;
  uint64_t fallback = 0;
  // Answers scored a second time with the full over-fetch (see above).
  uint64_t refetches = 0;
};

// A request's filters as an ItemPredicate over model item indices (their
// catalog records in `prepared`); holds `prepared`, so it keeps the rule
// set's bitmap alive too. Immutable.
class RequestFilterPredicate : public ItemPredicate {
 public:
  RequestFilterPredicate(std::shared_ptr<const PreparedRules> prepared,
                         std::vector<CompiledFilter> filters)
      : prepared_(std::move(prepared)), filters_(std::move(filters)) {}
  bool Allows(uint32_t index) const override;
  // `item` null: not in the catalog.
  bool Passes(const affinity::v1::CatalogItem* item) const;

 private:
  const std::shared_ptr<const PreparedRules> prepared_;
  const std::vector<CompiledFilter> filters_;
};

struct RuleRequest {
  std::shared_ptr<const PreparedRules> prepared;
  const PreparedRuleSet* set = nullptr;
  size_t k = 0;
  bool explain = false;
  int64_t now_unix = 0;
  // Model indices never returned (built by the caller, seen items included
  // only when set->rules->exclude_seen).
  const ExclusionSet* excluded = nullptr;
  // Item ids the request excludes explicitly: never pinned, never used as
  // catalog-only fallback.
  const absl::flat_hash_set<std::string>* excluded_ids = nullptr;
  // Filters of this request (may be null or empty): every returned item,
  // pins and fallback included, passes them too.
  const std::vector<CompiledFilter>* request_filters = nullptr;
  // Most popular model items first.
  const std::vector<uint32_t>* popular = nullptr;
  // Scores query.k candidates restricted to query.allowed and
  // query.also_allowed (kept alive by query.owner), all set by RunRules; the
  // function sets the query's vector and exclusions. Unset when there is
  // nothing to score with (unknown user): the answer is then all fallback.
  std::function<ScoringResult(ScoringQuery query)> score;
  // True when `score`'s best m are the first m of its best n > m
  // (Scorer::ScansEveryAllowedRow): diversity without boosts may then ask
  // for fewer candidates first (see above). False: the full over-fetch at
  // once (an IVF or HNSW search widens with k, and recall with it).
  bool score_is_prefix_stable = false;
  // The model's score of one item (may be unset: pinned items that were not
  // among the candidates then carry score 0).
  std::function<float(uint32_t index)> score_item;
};

struct RuleOutcome {
  std::vector<RankedItem> items;
  RuleCounts counts;
  uint64_t items_scored = 0;
};

RuleOutcome RunRules(const RuleRequest& request);

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_PIPELINE_H_
