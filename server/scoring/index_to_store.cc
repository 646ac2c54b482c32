#include "server/scoring/index_to_store.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/ivf_index_io.h"
#include "server/scoring/ivf_scorer.h"

namespace affinity::server {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<IndexToStore> BuildIndexToStore(std::shared_ptr<const ItemMatrix> items,
                                               const std::string& vectors_sha256,
                                               const ScorerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.kind == ScorerKind::kHnsw) {
    auto built = HnswScorer::Build(items, options);
    if (!built.ok()) return built.status();
    std::shared_ptr<const HnswScorer> hnsw = *std::move(built);
    return IndexToStore{
        HnswIndexHeader(options, *items, vectors_sha256, SecondsSince(start)),
        [hnsw](storage::IndexWriter& writer) { return WriteHnswIndex(*hnsw, writer); }};
  }
  if (options.kind == ScorerKind::kIvf) {
    auto trained = IvfScorer::TrainLists(*items, options);
    if (!trained.ok()) return trained.status();
    auto lists = std::make_shared<const IvfLists>(*std::move(trained));
    return IndexToStore{IvfIndexHeader(lists->centroids->rows(), items->rows(), items->dims(),
                                       vectors_sha256, SecondsSince(start)),
                        [lists](storage::IndexWriter& writer) {
                          return WriteIvfIndex(*lists->centroids, lists->assignment, writer);
                        }};
  }
  return absl::InvalidArgumentError("only the hnsw and ivf scorers keep an index to store");
}

std::optional<IndexToStore> IndexToStoreOf(const Scorer& scorer, const ItemMatrix& items,
                                           const std::string& vectors_sha256,
                                           double build_seconds) {
  if (const auto* hnsw = dynamic_cast<const HnswScorer*>(&scorer)) {
    return IndexToStore{
        HnswIndexHeader(hnsw->options(), items, vectors_sha256, build_seconds),
        [hnsw](storage::IndexWriter& writer) { return WriteHnswIndex(*hnsw, writer); }};
  }
  if (const auto* ivf = dynamic_cast<const IvfScorer*>(&scorer)) {
    return IndexToStore{IvfIndexHeader(ivf->lists(), items.rows(), items.dims(), vectors_sha256,
                                       build_seconds),
                        [ivf](storage::IndexWriter& writer) {
                          return WriteIvfIndex(ivf->centroids(), ivf->Assignment(), writer);
                        }};
  }
  return std::nullopt;
}

}  // namespace affinity::server
