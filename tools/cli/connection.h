// How the CLI reaches a server: channel credentials from --tls_ca,
// --tls_cert, --tls_key (plaintext when all are empty; TLS verifying the
// server against --tls_ca, or the system roots when it is empty; --tls_cert
// and --tls_key present a client certificate) and the admin token of
// --admin_token_file, sent on admin calls as "authorization: Bearer TOKEN".
// Files are read by LoadConnection; errors are InvalidArgument naming the
// flag and the file. A Connection is immutable once loaded.
#ifndef AFFINITY_TOOLS_CLI_CONNECTION_H_
#define AFFINITY_TOOLS_CLI_CONNECTION_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace affinity::cli {

struct ConnectionFlags {
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string admin_token_file;
};

struct Connection {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  std::string admin_token;  // empty: none sent
};

absl::StatusOr<Connection> LoadConnection(const ConnectionFlags& flags);

// Adds the admin token (if any) to an admin call's metadata.
void AddAdminToken(const Connection& connection, grpc::ClientContext* context);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_CONNECTION_H_
