// Guards the load generator against sending traffic anywhere but this
// machine.
//
// Contract: CheckLoopbackTarget accepts exactly one host:port whose host is
// an IPv4 address in 127.0.0.0/8 (dotted quad), "localhost" or "[::1]",
// optionally prefixed by the gRPC schemes "dns:///", "ipv4:" or "ipv6:", and
// a port in 1..65535. Everything else is InvalidArgument naming the target.
#ifndef AFFINITY_TOOLS_LOADGEN_LOOPBACK_TARGET_H_
#define AFFINITY_TOOLS_LOADGEN_LOOPBACK_TARGET_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace affinity::loadgen {

absl::Status CheckLoopbackTarget(absl::string_view target);

}  // namespace affinity::loadgen

#endif  // AFFINITY_TOOLS_LOADGEN_LOOPBACK_TARGET_H_
