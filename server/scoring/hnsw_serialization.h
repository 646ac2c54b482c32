// An hnswlib HNSW graph (inner-product space, float) to and from bytes in
// hnswlib's own saveIndex layout, streamed through callbacks instead of a
// file (hnswlib 0.6 reads and writes only named files). Reading checks the
// graph against what it must index before anyone searches it: the element
// count, the vector length, the graph parameters, every label, neighbour id
// and list length, and every stored vector against the item's own vector,
// so a blob that does not belong to these items is an error, never a crash
// or a wrong answer. Pure functions; nothing throws. Implemented in
// hnsw_scorer.cc, the one file that includes hnswlib's headers.
#ifndef AFFINITY_SERVER_SCORING_HNSW_SERIALIZATION_H_
#define AFFINITY_SERVER_SCORING_HNSW_SERIALIZATION_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/scoring/item_matrix.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace affinity::server {

// Receives the next bytes of a blob.
using ByteSink = std::function<absl::Status(absl::string_view bytes)>;
// Fills its argument with the next bytes of a blob (all of them, or an error).
using ByteSource = std::function<absl::Status(absl::Span<char> out)>;

// The blob layout written and read here (IndexHeader.format).
inline constexpr char kHnswFormat[] = "hnswlib-0.6";

// Writes `index` as hnswlib's saveIndex would write it to a file.
absl::Status WriteHnsw(const hnswlib::HierarchicalNSW<float>& index, const ByteSink& sink);

struct HnswExpectation {
  // Row i of items is the vector of label i; rows() elements, dims() long.
  const ItemMatrix* items = nullptr;
  size_t m = 16;
  size_t ef_construction = 200;
};

// Reads a graph written by WriteHnsw (or hnswlib's saveIndex) over `space`
// (which must outlive the result). FailedPrecondition naming the first
// difference when the graph is not one of `expected`'s items with its
// parameters; DataLoss when its structure is malformed; ResourceExhausted
// when it cannot be allocated; the source's own errors as they are.
absl::StatusOr<std::unique_ptr<hnswlib::HierarchicalNSW<float>>> ReadHnsw(
    hnswlib::SpaceInterface<float>* space, const HnswExpectation& expected,
    const ByteSource& source);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_HNSW_SERIALIZATION_H_
