// Server credentials of the gRPC ports from the TLS flags: plaintext
// without a certificate; TLS with --tls_cert and --tls_key (PEM files);
// with --tls_client_ca as well, every client must present a certificate
// signed by that CA (mutual TLS). The files are read once, at start.
// Errors are InvalidArgument naming the flag and the file (unreadable, not
// PEM, key not matching the certificate, one of cert/key without the other).
#ifndef AFFINITY_SERVER_RPC_SERVER_CREDENTIALS_H_
#define AFFINITY_SERVER_RPC_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"

namespace affinity::server {

struct TlsFiles {
  std::string cert;       // --tls_cert
  std::string key;        // --tls_key
  std::string client_ca;  // --tls_client_ca
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const TlsFiles& files);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_SERVER_CREDENTIALS_H_
