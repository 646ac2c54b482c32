#include "server/rpc/admin_auth.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace affinity::server {
namespace {

constexpr absl::string_view kBearer = "Bearer ";

std::array<unsigned char, 32> Sha256(absl::string_view text) {
  std::array<unsigned char, 32> digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

absl::StatusOr<std::string> LoadAdminToken(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin_token_file ", path, ": cannot read it (", strerror(errno), ")"));
  }
  if ((info.st_mode & S_IRWXO) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin_token_file ", path,
        ": any user of this host may read or write it; expected no access for others "
        "(chmod o-rwx)"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin_token_file ", path, ": cannot read it"));
  }
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin_token_file ", path, ": empty, expected a token"));
  }
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--admin_token_file ", path, ": byte ", i,
          " of the token is not visible ASCII, expected a token of 0x21..0x7E"));
    }
  }
  return token;
}

bool IsLoopbackListen(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) {
    return true;
  }
  const size_t colon = listen.rfind(':');
  absl::string_view host = colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (host == "localhost" || host == "[::1]") return true;
  const std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view part : parts) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 0 || value > 255) return false;
  }
  return true;
}

AdminAuth::AdminAuth(absl::string_view token) : digest_(Sha256(token)) {}

grpc::Status AdminAuth::Check(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  if (found == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "admin calls need metadata \"authorization: Bearer TOKEN\" "
                        "(the server's --admin_token_file)");
  }
  const absl::string_view value(found->second.data(), found->second.size());
  const std::array<unsigned char, 32> sent =
      Sha256(absl::StartsWith(value, kBearer) ? value.substr(kBearer.size()) : absl::string_view());
  if (!absl::StartsWith(value, kBearer) ||
      CRYPTO_memcmp(sent.data(), digest_.data(), digest_.size()) != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization: not the server's admin token");
  }
  return grpc::Status::OK;
}

}  // namespace affinity::server
