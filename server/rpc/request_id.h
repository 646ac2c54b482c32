// Request ids: each answer's request_id names the model version and arm
// that produced it, so that an outcome reported with only the request_id
// is counted for the right arm, on any server of the store, after any
// restart. Format: "r1.<version>.<arm>.<f|b>.<16 hex digits>" (f: the arm
// was forced, b: drawn by the bucket function; the digits are random).
// Clients treat it as opaque. Thread-safe.
#ifndef AFFINITY_SERVER_RPC_REQUEST_ID_H_
#define AFFINITY_SERVER_RPC_REQUEST_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::server {

struct RequestIdParts {
  uint64_t model_version = 0;
  std::string arm;
  bool forced = false;
};

std::string MakeRequestId(uint64_t model_version, absl::string_view arm, bool forced);

// InvalidArgument ("request_id: ...") for anything MakeRequestId did not make.
absl::StatusOr<RequestIdParts> ParseRequestId(absl::string_view request_id);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_REQUEST_ID_H_
