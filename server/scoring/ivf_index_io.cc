#include "server/scoring/ivf_index_io.h"

#include <new>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/stored_index_header.h"

namespace affinity::server {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the stored lists are little-endian, written and read as in memory");

// Bytes a blob of `lists` centroids of `dims` and `items` assignments holds.
uint64_t BlobBytes(uint64_t lists, uint64_t dims, uint64_t items) {
  return (lists * dims + items) * 4;
}

}  // namespace

affinity::v1::IndexHeader IvfIndexHeader(size_t lists, size_t items, size_t dims,
                                         std::string vectors_sha256, double build_seconds) {
  return StoredIndexHeader(IvfScorer::kIndexKind, IvfScorer::IndexParams(lists), kIvfFormat,
                           items, dims, std::move(vectors_sha256), build_seconds);
}

absl::StatusOr<affinity::v1::IndexHeader> WriteIvfIndex(const ItemMatrix& centroids,
                                                        absl::Span<const uint32_t> assignment,
                                                        storage::IndexWriter& writer) {
  const size_t row_bytes = centroids.dims() * sizeof(float);
  for (size_t l = 0; l < centroids.rows(); ++l) {
    if (absl::Status s = writer.Append(absl::string_view(
            reinterpret_cast<const char*>(centroids.row(l)), row_bytes));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = writer.Append(absl::string_view(
          reinterpret_cast<const char*>(assignment.data()), assignment.size() * sizeof(uint32_t)));
      !s.ok()) {
    return s;
  }
  return writer.Commit();
}

absl::StatusOr<std::unique_ptr<IvfScorer>> LoadIvfIndex(
    const storage::ModelVersionReader& reader, std::shared_ptr<const ItemMatrix> items,
    const std::string& vectors_sha256, const ScorerOptions& options) {
  const size_t rows = items->rows();
  const size_t dims = items->dims();
  // The list count is the params' (they name the index); the blob must
  // hold exactly that many centroids and one list per item.
  const size_t lists = IvfScorer::ListsFor(options, rows);
  const std::string params = IvfScorer::IndexParams(lists);
  auto stored = reader.OpenIndex(IvfScorer::kIndexKind, params);
  if (!stored.ok()) return stored.status();
  const affinity::v1::IndexHeader& header = (*stored)->header();
  if (absl::Status s = CheckStoredIndexHeader(header, kIvfFormat, rows, dims, vectors_sha256);
      !s.ok()) {
    return s;
  }
  const std::string what = StoredIndexName(header);
  if (header.blob_bytes() != BlobBytes(lists, dims, rows)) {
    return absl::DataLossError(absl::StrCat(what, ": ", header.blob_bytes(), " bytes, expected ",
                                            BlobBytes(lists, dims, rows), " for ", lists,
                                            " lists of ", rows, " items x ", dims, " dims"));
  }
  try {
    IvfLists read;
    auto centroids = std::make_unique<ItemMatrix>(lists, dims);
    if (absl::Status s = (*stored)->Read(absl::MakeSpan(
            reinterpret_cast<char*>(centroids->mutable_data()), lists * dims * sizeof(float)));
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
    }
    centroids->ExpandPackedRows();
    read.centroids = std::move(centroids);
    read.assignment.resize(rows);
    if (absl::Status s = (*stored)->Read(absl::MakeSpan(
            reinterpret_cast<char*>(read.assignment.data()), rows * sizeof(uint32_t)));
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
    }
    if (absl::Status s = (*stored)->Finish(); !s.ok()) return s;
    auto scorer = IvfScorer::FromLists(std::move(items), std::move(read), options);
    if (absl::IsInvalidArgument(scorer.status())) {
      return absl::DataLossError(absl::StrCat(what, ": ", scorer.status().message()));
    }
    return scorer;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory reading the lists"));
  }
}

}  // namespace affinity::server
