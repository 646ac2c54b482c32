#include "server/scoring/hnsw_index_io.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/stored_index_header.h"

namespace affinity::server {

affinity::v1::IndexHeader HnswIndexHeader(const ScorerOptions& options, const ItemMatrix& items,
                                          std::string vectors_sha256, double build_seconds) {
  return StoredIndexHeader(HnswScorer::kIndexKind, HnswScorer::IndexParams(options), kHnswFormat,
                           items.rows(), items.dims(), std::move(vectors_sha256), build_seconds);
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
  if (absl::Status s = CheckStoredIndexHeader(header, kHnswFormat, items->rows(), items->dims(),
                                              vectors_sha256);
      !s.ok()) {
    return s;
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
                        absl::StrCat(StoredIndexName(header), ": ", scorer.status().message()));
  }
  if (absl::Status s = (*stored)->Finish(); !s.ok()) return s;
  return scorer;
}

}  // namespace affinity::server
