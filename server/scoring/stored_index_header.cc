#include "server/scoring/stored_index_header.h"

#include <cstdint>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace affinity::server {
namespace {

std::string ShortHex(const std::string& digest) {
  return absl::BytesToHexString(digest).substr(0, 16);
}

}  // namespace

affinity::v1::IndexHeader StoredIndexHeader(absl::string_view kind, absl::string_view params,
                                            absl::string_view format, size_t items, size_t dims,
                                            std::string vectors_sha256, double build_seconds) {
  affinity::v1::IndexHeader header;
  header.set_kind(std::string(kind));
  header.set_params(std::string(params));
  header.set_format(std::string(format));
  header.set_items(static_cast<int64_t>(items));
  header.set_dims(static_cast<int32_t>(dims));
  header.set_vectors_sha256(std::move(vectors_sha256));
  header.set_build_seconds(build_seconds);
  header.set_created_at_unix(absl::ToUnixSeconds(absl::Now()));
  return header;
}

std::string StoredIndexName(const affinity::v1::IndexHeader& header) {
  return absl::StrCat("stored index ", header.kind(), "/", header.params());
}

absl::Status CheckStoredIndexHeader(const affinity::v1::IndexHeader& header,
                                    absl::string_view format, size_t items, size_t dims,
                                    const std::string& vectors_sha256) {
  const std::string what = StoredIndexName(header);
  if (header.format() != format) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": format ", header.format(), ", expected ", format));
  }
  if (header.items() != static_cast<int64_t>(items) ||
      header.dims() != static_cast<int32_t>(dims)) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": built from ", header.items(),
                                                      " items x ", header.dims(),
                                                      " dims, the version has ", items, " x ",
                                                      dims));
  }
  if (header.vectors_sha256() != vectors_sha256) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": built from item vectors with SHA-256 ",
                     ShortHex(header.vectors_sha256()), "..., the version's are ",
                     ShortHex(vectors_sha256), "..."));
  }
  return absl::OkStatus();
}

}  // namespace affinity::server
