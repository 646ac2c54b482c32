// Fuzz target: request validation as the server runs it on the bytes of a
// request (server/rpc/utf8_checked_service.cc, then request_validation.h):
// CheckUtf8Fields on the wire bytes, the protobuf parse, then
// ValidateRecommendRequest / ValidateOutcomeRequest /
// ValidateSimilarItemsRequest (the input's first byte picks the type), and
// for a valid Recommend request the compilation of its filters.
//
// Invariants checked beyond "no crash": bytes protobuf parses pass the
// UTF-8 check (the check must not refuse a request protobuf accepts, nor
// the reverse, since the server runs the check first); a request that
// validates has ids within the limits and k in 1..max_k.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "affinity/v1/recommender.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "server/rpc/request_validation.h"
#include "server/rpc/utf8_fields.h"
#include "server/rules/compiled_rules.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace affinity::server;

template <class Request>
bool Parse(absl::string_view wire, Request* request) {
  const absl::Status checked = CheckUtf8Fields(*Request::descriptor(), wire);
  Request probe;
  const bool parsed = probe.ParseFromArray(wire.data(), static_cast<int>(wire.size()));
  if (parsed) FUZZ_CHECK(checked.ok(), absl::StrCat("protobuf parses, but ", checked.ToString()));
  if (!checked.ok()) return false;
  if (!parsed) return false;
  *request = std::move(probe);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs an error for every string that is not UTF-8.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  affinity::fuzz::FuzzInput in(data, size);
  const uint8_t option = in.TakeByte();
  const absl::string_view wire = in.rest();
  RequestLimits limits;
  if (option & 0x10) {  // small limits, so that the fuzzer reaches them
    limits.max_k = 5;
    limits.max_recent = 3;
    limits.max_excludes = 3;
    limits.max_id_bytes = 8;
    limits.max_outcomes = 2;
    limits.max_filters = 2;
    limits.max_filter_values = 3;
  }
  RuleSetRegistry rule_sets;
  rule_sets.Register("homepage");
  rule_sets.SetLookup([](absl::string_view name) { return name == "similar"; });

  switch (option % 3) {
    case 0: {
      affinity::v1::RecommendRequest request;
      if (!Parse(wire, &request)) return 0;
      if (!ValidateRecommendRequest(request, limits, rule_sets).ok()) return 0;
      FUZZ_CHECK(request.k() >= 1 && request.k() <= limits.max_k, absl::StrCat(request.k()));
      FUZZ_CHECK(request.user_id().size() <= limits.max_id_bytes, "user_id");
      FUZZ_CHECK(static_cast<size_t>(request.recent_size()) <= limits.max_recent, "recent");
      for (const auto& r : request.recent()) {
        FUZZ_CHECK(!r.item_id().empty() && r.item_id().size() <= limits.max_id_bytes, "recent");
      }
      FUZZ_CHECK(static_cast<size_t>(request.exclude_item_ids_size()) <= limits.max_excludes,
                 "exclude_item_ids");
      affinity::server::rules::CompileFilters(
          std::vector<affinity::v1::Filter>(request.filters().begin(), request.filters().end()),
          "filters")
          .IgnoreError();
      break;
    }
    case 1: {
      affinity::v1::ReportOutcomeRequest request;
      if (!Parse(wire, &request)) return 0;
      if (!ValidateOutcomeRequest(request, limits).ok()) return 0;
      FUZZ_CHECK(request.outcomes_size() >= 1 &&
                     static_cast<size_t>(request.outcomes_size()) <= limits.max_outcomes,
                 "outcomes");
      for (const auto& o : request.outcomes()) {
        FUZZ_CHECK(!o.item_id().empty() && o.item_id().size() <= limits.max_id_bytes, "item_id");
      }
      break;
    }
    default: {
      affinity::v1::SimilarItemsRequest request;
      if (!Parse(wire, &request)) return 0;
      if (!ValidateSimilarItemsRequest(request, limits, rule_sets).ok()) return 0;
      FUZZ_CHECK(request.k() >= 1 && request.k() <= limits.max_k, absl::StrCat(request.k()));
      FUZZ_CHECK(!request.item_id().empty() && request.item_id().size() <= limits.max_id_bytes,
                 "item_id");
      break;
    }
  }
  return 0;
}
