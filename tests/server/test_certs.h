// Certificates made at test time with OpenSSL: a self-signed CA, and
// certificates it signs (a server's for 127.0.0.1 and localhost, a
// client's), each written as PEM files. MakeTestCerts returns false when
// OpenSSL or a write fails.
#ifndef AFFINITY_TESTS_SERVER_TEST_CERTS_H_
#define AFFINITY_TESTS_SERVER_TEST_CERTS_H_

#include <string>

namespace affinity::server::testing {

struct PemFiles {
  std::string cert;
  std::string key;
};

// Writes DIR/ca.pem and, signed by that CA, DIR/server.pem and
// DIR/server.key (subjectAltName 127.0.0.1, localhost) and DIR/client.pem
// and DIR/client.key; a second CA's client certificate goes to
// DIR/stranger.pem and DIR/stranger.key.
struct TestCerts {
  std::string ca;  // CA certificate file
  PemFiles server;
  PemFiles client;
  PemFiles stranger;  // signed by another CA
};
bool MakeTestCerts(const std::string& dir, TestCerts* certs);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_TEST_CERTS_H_
