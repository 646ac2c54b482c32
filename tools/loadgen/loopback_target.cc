#include "tools/loadgen/loopback_target.h"

#include <arpa/inet.h>

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace affinity::loadgen {
namespace {

absl::Status Refuse(absl::string_view target, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--server \"", target, "\" refused: ", why,
      " (only 127.0.0.0/8, localhost or [::1] with a port are allowed)"));
}

bool IsLoopbackIpv4(absl::string_view host) {
  in_addr address{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) {
    return false;
  }
  return (ntohl(address.s_addr) >> 24) == 127;
}

}  // namespace

absl::Status CheckLoopbackTarget(absl::string_view target) {
  absl::string_view rest = target;
  for (absl::string_view scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&rest, scheme)) break;
  }
  if (absl::StrContains(rest, ',')) return Refuse(target, "more than one address");

  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return Refuse(target, "unclosed '['");
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!absl::ConsumePrefix(&after, ":")) return Refuse(target, "missing port");
    port = after;
    if (host != "::1") return Refuse(target, "IPv6 host is not ::1");
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return Refuse(target, "missing port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host != "localhost" && !IsLoopbackIpv4(host)) {
      return Refuse(target, "host is not a loopback address");
    }
  }
  uint32_t port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number == 0 ||
      port_number > 65535) {
    return Refuse(target, "port is not a number in 1..65535");
  }
  return absl::OkStatus();
}

}  // namespace affinity::loadgen
