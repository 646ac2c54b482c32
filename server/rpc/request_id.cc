#include "server/rpc/request_id.h"

#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace affinity::server {

std::string MakeRequestId(uint64_t model_version, absl::string_view arm, bool forced) {
  thread_local absl::BitGen random;
  return absl::StrFormat("r1.%d.%s.%s.%016x", model_version, arm, forced ? "f" : "b",
                         absl::Uniform<uint64_t>(random));
}

absl::StatusOr<RequestIdParts> ParseRequestId(absl::string_view request_id) {
  const std::vector<absl::string_view> parts = absl::StrSplit(request_id, '.');
  RequestIdParts out;
  if (parts.size() != 5 || parts[0] != "r1" || !absl::SimpleAtoi(parts[1], &out.model_version) ||
      out.model_version == 0 || parts[2].empty() || (parts[3] != "f" && parts[3] != "b") ||
      parts[4].size() != 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id: \"", request_id.substr(0, 80),
        "\" is not a request_id this service returned (expected r1.<version>.<arm>.<f|b>.<hex>)"));
  }
  out.arm = std::string(parts[2]);
  out.forced = parts[3] == "f";
  return out;
}

}  // namespace affinity::server
