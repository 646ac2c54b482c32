#include "tools/cli/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace affinity::cli {
namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read it"));
  return text.str();
}

}  // namespace

absl::StatusOr<Connection> LoadConnection(const ConnectionFlags& flags) {
  Connection connection;
  if (!flags.admin_token_file.empty()) {
    absl::StatusOr<std::string> text = ReadWhole("--admin_token_file", flags.admin_token_file);
    if (!text.ok()) return text.status();
    connection.admin_token = std::string(absl::StripAsciiWhitespace(*text));
    if (connection.admin_token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--admin_token_file ", flags.admin_token_file, ": empty, expected a token"));
    }
  }
  if (flags.tls_ca.empty() && flags.tls_cert.empty() && flags.tls_key.empty()) return connection;
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key: give both or neither");
  }
  grpc::SslCredentialsOptions options;
  if (!flags.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadWhole("--tls_ca", flags.tls_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (!flags.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadWhole("--tls_cert", flags.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadWhole("--tls_key", flags.tls_key);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  connection.credentials = grpc::SslCredentials(options);
  return connection;
}

void AddAdminToken(const Connection& connection, grpc::ClientContext* context) {
  if (!connection.admin_token.empty()) {
    context->AddMetadata("authorization", "Bearer " + connection.admin_token);
  }
}

}  // namespace affinity::cli
