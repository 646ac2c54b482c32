// How the CLI reports a failed RPC: the message it prints and its exit code.
//
// Contract:
//  - FormatRpcError gives "error: <CODE>: <message>", CODE being the
//    canonical upper-case name (e.g. INVALID_ARGUMENT, UNAVAILABLE).
//  - ExitCodeForRpc is 0 for OK, 2 for INVALID_ARGUMENT and NOT_FOUND (the
//    request was at fault), 1 for every other code.
#ifndef AFFINITY_TOOLS_CLI_GRPC_ERROR_H_
#define AFFINITY_TOOLS_CLI_GRPC_ERROR_H_

#include <string>

#include "grpcpp/support/status.h"

namespace affinity::cli {

std::string StatusCodeName(grpc::StatusCode code);
std::string FormatRpcError(const grpc::Status& status);
int ExitCodeForRpc(const grpc::Status& status);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_GRPC_ERROR_H_
