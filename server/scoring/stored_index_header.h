// What every index stored with a model version (storage/model_store.h:
// an HNSW graph, IVF lists) says about itself and how a load checks it:
// the header names the item vectors the index was built from (count, dims,
// SHA-256) and the blob's format. Stateless; thread-safe.
#ifndef AFFINITY_SERVER_SCORING_STORED_INDEX_HEADER_H_
#define AFFINITY_SERVER_SCORING_STORED_INDEX_HEADER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/model.pb.h"

namespace affinity::server {

// A header with these fields and created_at_unix now.
affinity::v1::IndexHeader StoredIndexHeader(absl::string_view kind, absl::string_view params,
                                            absl::string_view format, size_t items, size_t dims,
                                            std::string vectors_sha256, double build_seconds);

// OK when `header` is in `format` and was built from `items` x `dims`
// vectors whose SHA-256 is vectors_sha256; FailedPrecondition naming the
// index and the first difference otherwise.
absl::Status CheckStoredIndexHeader(const affinity::v1::IndexHeader& header,
                                    absl::string_view format, size_t items, size_t dims,
                                    const std::string& vectors_sha256);

// "stored index KIND/PARAMS", how errors about it begin.
std::string StoredIndexName(const affinity::v1::IndexHeader& header);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_STORED_INDEX_HEADER_H_
