// A minimal HTTP/1.1 GET against a loopback port, for tests of the server's
// /metrics and /healthz. Returns the body; empty when the connection or the
// request fails. Thread-safe (a socket per call).
#ifndef AFFINITY_TESTS_SERVER_HTTP_GET_H_
#define AFFINITY_TESTS_SERVER_HTTP_GET_H_

#include <string>

namespace affinity::server::testing {

std::string HttpGetBody(int port, const std::string& path);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_HTTP_GET_H_
