#include "tools/cli/grpc_error.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::cli {

std::string StatusCodeName(grpc::StatusCode code) {
  // gRPC and absl share the canonical code numbering.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string FormatRpcError(const grpc::Status& status) {
  return absl::StrCat("error: ", StatusCodeName(status.error_code()), ": ",
                      status.error_message());
}

int ExitCodeForRpc(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return 0;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
      return 2;
    default:
      return 1;
  }
}

}  // namespace affinity::cli
