#include "server/rpc/request_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

absl::Status CheckK(int k, const RequestLimits& limits) {
  if (k <= 0 || k > limits.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: expected 1..", limits.max_k, ", got ", k));
  }
  return absl::OkStatus();
}

absl::Status CheckId(absl::string_view field, absl::string_view id, bool required,
                     const RequestLimits& limits) {
  if (required && id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (id.size() > limits.max_id_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": at most ", limits.max_id_bytes, " bytes, got ", id.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckExcludes(const google::protobuf::RepeatedPtrField<std::string>& ids,
                           const RequestLimits& limits) {
  if (static_cast<size_t>(ids.size()) > limits.max_excludes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exclude_item_ids: at most ", limits.max_excludes, " entries, got ", ids.size()));
  }
  for (int i = 0; i < ids.size(); ++i) {
    if (absl::Status s = CheckId(absl::StrCat("exclude_item_ids[", i, "]"), ids[i],
                                 /*required=*/true, limits);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// The number of request filters, their values and their strings (the
// filters compile later, in RecommenderService).
absl::Status CheckFilterStrings(const google::protobuf::RepeatedPtrField<affinity::v1::Filter>& filters,
                                const RequestLimits& limits) {
  if (filters.size() > limits.max_filters) {
    return absl::InvalidArgumentError(
        absl::StrCat("filters: ", filters.size(), " given, at most ", limits.max_filters));
  }
  for (int i = 0; i < filters.size(); ++i) {
    const affinity::v1::Filter& f = filters[i];
    const int values = f.any_of_size() + f.none_of_size();
    if (values > limits.max_filter_values) {
      return absl::InvalidArgumentError(absl::StrCat("filters[", i, "]: ", values,
                                                     " any_of/none_of values, at most ",
                                                     limits.max_filter_values));
    }
    const std::string at = absl::StrCat("filters[", i, "].");
    if (absl::Status s = CheckId(at + "attribute", f.attribute(), false, limits); !s.ok()) return s;
    if (absl::Status s = CheckId(at + "newer_than", f.newer_than(), false, limits); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckId(at + "older_than", f.older_than(), false, limits); !s.ok()) {
      return s;
    }
    for (int j = 0; j < f.any_of_size(); ++j) {
      if (absl::Status s = CheckId(absl::StrCat(at, "any_of[", j, "]"), f.any_of(j), false, limits);
          !s.ok()) {
        return s;
      }
    }
    for (int j = 0; j < f.none_of_size(); ++j) {
      if (absl::Status s =
              CheckId(absl::StrCat(at, "none_of[", j, "]"), f.none_of(j), false, limits);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRuleSet(absl::string_view rule_set, const RuleSetRegistry& rule_sets,
                          const RequestLimits& limits) {
  if (absl::Status s = CheckId("rule_set", rule_set, false, limits); !s.ok()) return s;
  if (!rule_sets.Known(rule_set)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule_set: unknown rule set \"", rule_set.substr(0, 64),
        "\" (see the server's --rules file; \"\" and \"default\" select the default)"));
  }
  return absl::OkStatus();
}

}  // namespace

RuleSetRegistry::RuleSetRegistry() : names_{"", "default"} {}

bool RuleSetRegistry::Known(absl::string_view name) const {
  return names_.find(name) != names_.end() || (lookup_ && lookup_(name));
}

absl::Status ValidateRecommendRequest(const affinity::v1::RecommendRequest& request,
                                      const RequestLimits& limits,
                                      const RuleSetRegistry& rule_sets) {
  if (absl::Status s = CheckK(request.k(), limits); !s.ok()) return s;
  if (request.user_id().empty() && request.recent().empty()) {
    return absl::InvalidArgumentError(
        "user_id: must not be empty when recent is empty (give a user or interactions)");
  }
  if (absl::Status s = CheckId("user_id", request.user_id(), false, limits); !s.ok()) {
    return s;
  }
  if (static_cast<size_t>(request.recent_size()) > limits.max_recent) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recent: at most ", limits.max_recent, " entries, got ", request.recent_size()));
  }
  for (int i = 0; i < request.recent_size(); ++i) {
    const affinity::v1::Interaction& r = request.recent(i);
    if (absl::Status s = CheckId(absl::StrCat("recent[", i, "].item_id"), r.item_id(),
                                 /*required=*/true, limits);
        !s.ok()) {
      return s;
    }
    if (!std::isfinite(r.weight()) || r.weight() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recent[", i, "].weight: expected a finite value >= 0, got ", r.weight()));
    }
  }
  if (absl::Status s = CheckExcludes(request.exclude_item_ids(), limits); !s.ok()) return s;
  if (absl::Status s = CheckId("session_id", request.session_id(), false, limits); !s.ok()) {
    return s;
  }
  if (request.arm().size() > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm: at most 32 bytes (an arm name), got ", request.arm().size()));
  }
  if (absl::Status s = CheckFilterStrings(request.filters(), limits); !s.ok()) return s;
  return CheckRuleSet(request.rule_set(), rule_sets, limits);
}

absl::Status ValidateOutcomeRequest(const affinity::v1::ReportOutcomeRequest& request,
                                    const RequestLimits& limits) {
  if (request.outcomes().empty()) {
    return absl::InvalidArgumentError("outcomes: expected at least one outcome");
  }
  if (static_cast<size_t>(request.outcomes_size()) > limits.max_outcomes) {
    return absl::InvalidArgumentError(absl::StrCat("outcomes: at most ", limits.max_outcomes,
                                                   " per call, got ",
                                                   request.outcomes_size()));
  }
  for (int i = 0; i < request.outcomes_size(); ++i) {
    const affinity::v1::OutcomeReport& o = request.outcomes(i);
    const std::string at = absl::StrCat("outcomes[", i, "].");
    if (absl::Status s = CheckId(at + "item_id", o.item_id(), true, limits); !s.ok()) return s;
    if (absl::Status s = CheckId(at + "user_id", o.user_id(), false, limits); !s.ok()) return s;
    if (absl::Status s = CheckId(at + "session_id", o.session_id(), false, limits); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckId(at + "request_id", o.request_id(), false, limits); !s.ok()) {
      return s;
    }
    if (o.arm().size() > 32) {
      return absl::InvalidArgumentError(absl::StrCat(at, "arm: at most 32 bytes"));
    }
    if (o.event() != affinity::v1::IMPRESSION && o.event() != affinity::v1::CLICK &&
        o.event() != affinity::v1::CONVERSION) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "event: expected IMPRESSION, CLICK or CONVERSION"));
    }
    if (o.at_unix_micros() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "at_unix_micros: expected 0 (now) or a time after 1970"));
    }
    if (o.request_id().empty() && (o.arm().empty() || o.model_version() == 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, "request_id: expected the answer's request_id, or arm and model_version"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSimilarItemsRequest(const affinity::v1::SimilarItemsRequest& request,
                                         const RequestLimits& limits,
                                         const RuleSetRegistry& rule_sets) {
  if (absl::Status s = CheckK(request.k(), limits); !s.ok()) return s;
  if (absl::Status s = CheckId("item_id", request.item_id(), true, limits); !s.ok()) return s;
  if (absl::Status s = CheckExcludes(request.exclude_item_ids(), limits); !s.ok()) return s;
  if (absl::Status s = CheckFilterStrings(request.filters(), limits); !s.ok()) return s;
  return CheckRuleSet(request.rule_set(), rule_sets, limits);
}

}  // namespace affinity::server
