// What a PromQL expression refers to, for checking a dashboard against the
// metrics a server exports: every series selector (metric name and label
// matchers) and every label named by by/without/on/ignoring/group_left/
// group_right. A lexer, not a full parser: string literals, range and
// subquery brackets, durations, numbers, Grafana variables ($x, ${x}) and
// function and aggregation names are skipped. InvalidArgument, naming the
// byte offset, for an unterminated string or bracket, a matcher that is not
// `label op "value"`, or a selector without a metric name. Pure,
// thread-safe.
#ifndef AFFINITY_TESTS_SERVER_PROMQL_REFS_H_
#define AFFINITY_TESTS_SERVER_PROMQL_REFS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::server::testing {

struct LabelMatcher {
  std::string label;
  std::string op;  // "=", "!=", "=~" or "!~"
  std::string value;
};

struct SeriesSelector {
  std::string metric;
  std::vector<LabelMatcher> matchers;
};

struct PromqlRefs {
  std::vector<SeriesSelector> selectors;  // in order of appearance
  std::set<std::string> grouping_labels;
};

absl::StatusOr<PromqlRefs> ParsePromqlRefs(absl::string_view expr);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_PROMQL_REFS_H_
