// Validation of incoming requests before any work is done. Every error is
// InvalidArgument and its message names the offending field (with its
// index for repeated fields) and what was expected.
#ifndef AFFINITY_SERVER_RPC_REQUEST_VALIDATION_H_
#define AFFINITY_SERVER_RPC_REQUEST_VALIDATION_H_

#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/recommender.pb.h"

namespace affinity::server {

// Every field a client can make large is bounded here (server flags of the
// same names, server/README.md "Security").
struct RequestLimits {
  int max_k = 1000;
  size_t max_recent = 1000;
  size_t max_excludes = 10000;
  // Any id or name a request carries: user, item, session and request ids,
  // rule_set, a filter's attribute, values and dates.
  size_t max_id_bytes = 256;
  size_t max_outcomes = 1000;
  // Request-time catalog filters (`filters`): how many per request, and how
  // many any_of + none_of values per filter.
  int max_filters = 32;
  int max_filter_values = 1000;
};

// Named business-rule sets a request may select: "" and "default" always,
// names registered here, and names the lookup accepts (the server's loaded
// rules file).
class RuleSetRegistry {
 public:
  RuleSetRegistry();
  void Register(std::string name) { names_.insert(std::move(name)); }
  // Names a lookup also accepts (e.g. the rule sets of the loaded rules
  // file); set before serving.
  void SetLookup(std::function<bool(absl::string_view)> lookup) { lookup_ = std::move(lookup); }
  bool Known(absl::string_view name) const;

 private:
  std::set<std::string, std::less<>> names_;
  std::function<bool(absl::string_view)> lookup_;
};

absl::Status ValidateRecommendRequest(const affinity::v1::RecommendRequest& request,
                                      const RequestLimits& limits,
                                      const RuleSetRegistry& rule_sets);

// Every outcome names an item, a known event type, and either a request_id
// or (arm, model_version); counts and id lengths are bounded.
absl::Status ValidateOutcomeRequest(const affinity::v1::ReportOutcomeRequest& request,
                                    const RequestLimits& limits);

absl::Status ValidateSimilarItemsRequest(const affinity::v1::SimilarItemsRequest& request,
                                         const RequestLimits& limits,
                                         const RuleSetRegistry& rule_sets);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_REQUEST_VALIDATION_H_
