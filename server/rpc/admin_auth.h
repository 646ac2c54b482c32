// Admin authentication: the bearer token every admin RPC carries when the
// server runs with --admin_token_file.
//
// Clients send gRPC metadata `authorization: Bearer TOKEN`. AdminAuth::Check
// answers OK, or UNAUTHENTICATED when the header is missing, malformed or
// names another token; the comparison takes the same time whatever the token
// sent (SHA-256 of both, compared with OpenSSL's CRYPTO_memcmp). The token is
// read once, at start: changing the file takes a restart.
//
// LoadAdminToken refuses (InvalidArgument naming the file) a file that
// cannot be read, that any user may read or write (mode bits for "others";
// chmod o-rwx), or whose token, without surrounding white space, is empty
// or holds a byte outside visible ASCII (0x21..0x7E, what a header value
// carries unchanged). Thread-safe: AdminAuth is immutable.
#ifndef AFFINITY_SERVER_RPC_ADMIN_AUTH_H_
#define AFFINITY_SERVER_RPC_ADMIN_AUTH_H_

#include <array>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::server {

// The token in `path` (see above).
absl::StatusOr<std::string> LoadAdminToken(const std::string& path);

// True when the host of a "HOST:PORT" listening address is a loopback
// address (127.0.0.0/8, [::1], localhost) or the address is a Unix socket
// ("unix:..."): only this host can connect.
bool IsLoopbackListen(absl::string_view listen);

class AdminAuth {
 public:
  // `token` must not be empty.
  explicit AdminAuth(absl::string_view token);

  grpc::Status Check(const grpc::ServerContext& context) const;

 private:
  std::array<unsigned char, 32> digest_;
};

// Check for services that may run without a token: OK when `auth` is null
// (`context` is then not read; in-process callers may pass null).
inline grpc::Status CheckAdminAuth(const AdminAuth* auth, const grpc::ServerContext* context) {
  if (auth == nullptr) return grpc::Status::OK;
  if (context == nullptr) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no call context");
  return auth->Check(*context);
}

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_ADMIN_AUTH_H_
