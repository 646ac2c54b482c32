#include "trainer/nightly/fingerprint.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace affinity {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

Digest NewSha256() {
  Digest ctx(EVP_MD_CTX_new());
  if (ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) ctx.reset();
  return ctx;
}

std::string FinishHex(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    const int error = errno;
    return absl::Status(error == ENOENT ? absl::StatusCode::kNotFound
                                        : absl::ErrnoToStatus(error, "").code(),
                        absl::StrCat(path, ": cannot open: ", std::strerror(error)));
  }
  Digest ctx = NewSha256();
  if (ctx == nullptr) return absl::InternalError("OpenSSL: cannot create a SHA-256 context");
  std::vector<char> buffer(size_t{8} << 20);
  while (true) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), n);
    if (n < buffer.size()) break;
  }
  if (std::ferror(file.get())) {
    return absl::DataLossError(absl::StrCat(path, ": read error: ", std::strerror(errno)));
  }
  return FinishHex(ctx.get());
}

std::string ModelFingerprint(const std::string& input_sha256,
                             const std::map<std::string, std::string>& parameters) {
  std::string text = absl::StrCat("input_sha256=", input_sha256, "\n");
  for (const auto& [name, value] : parameters) absl::StrAppend(&text, name, "=", value, "\n");
  Digest ctx = NewSha256();
  EVP_DigestUpdate(ctx.get(), text.data(), text.size());
  return FinishHex(ctx.get());
}

std::string ShortFingerprint(const std::string& fingerprint) {
  return fingerprint.substr(0, 12);
}

}  // namespace affinity
