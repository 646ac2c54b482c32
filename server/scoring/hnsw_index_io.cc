#include "server/scoring/hnsw_index_io.h"

#include <utility>

#include "absl/status/status.h"
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

affinity::v1::IndexHeader HnswIndexHeader(const ScorerOptions& options, const ItemMatrix& items,
                                          std::string vectors_sha256, double build_seconds) {
  affinity::v1::IndexHeader header;
  header.set_kind(HnswScorer::kIndexKind);
  header.set_params(HnswScorer::IndexParams(options));
  header.set_format(kHnswFormat);
  header.set_items(static_cast<int64_t>(items.rows()));
  header.set_dims(static_cast<int32_t>(items.dims()));
  header.set_vectors_sha256(std::move(vectors_sha256));
  header.set_build_seconds(build_seconds);
  header.set_created_at_unix(absl::ToUnixSeconds(absl::Now()));
  return header;
}

absl::StatusOr<affinity::v1::IndexHeader> WriteHnswIndex(const HnswScorer& scorer,
                                                         storage::IndexWriter& writer) {
  if (absl::Status s = scorer.Save([&](absl::string_view bytes) { return writer.Append(bytes); });
      !s.ok()) {
    return s;
  }
  return writer.Commit();
}

absl::StatusOr<std::unique_ptr<HnswScorer>> LoadHnswIndex(
    const storage::ModelVersionReader& reader, std::shared_ptr<const ItemMatrix> items,
    const std::string& vectors_sha256, const ScorerOptions& options) {
  const std::string params = HnswScorer::IndexParams(options);
  auto stored = reader.OpenIndex(HnswScorer::kIndexKind, params);
  if (!stored.ok()) return stored.status();
  const affinity::v1::IndexHeader& header = (*stored)->header();
  const std::string what = absl::StrCat("stored index ", header.kind(), "/", header.params());
  if (header.format() != kHnswFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": format ", header.format(), ", expected ", kHnswFormat));
  }
  if (header.items() != static_cast<int64_t>(items->rows()) ||
      header.dims() != static_cast<int32_t>(items->dims())) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": built from ", header.items(), " items x ", header.dims(),
                     " dims, the version has ", items->rows(), " x ", items->dims()));
  }
  if (header.vectors_sha256() != vectors_sha256) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": built from item vectors with SHA-256 ",
                     ShortHex(header.vectors_sha256()), "..., the version's are ",
                     ShortHex(vectors_sha256), "..."));
  }
  size_t calls = 0;
  auto scorer = HnswScorer::Load(items, options, [&](absl::Span<char> out) -> absl::Status {
    if (options.cancel != nullptr && (++calls & 1023) == 0 && options.cancel->load()) {
      return absl::CancelledError("hnsw: index load cancelled");
    }
    return (*stored)->Read(out);
  });
  if (!scorer.ok()) {
    return absl::Status(scorer.status().code(),
                        absl::StrCat(what, ": ", scorer.status().message()));
  }
  if (absl::Status s = (*stored)->Finish(); !s.ok()) return s;
  return scorer;
}

}  // namespace affinity::server
