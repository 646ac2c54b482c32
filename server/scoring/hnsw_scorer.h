// HnswScorer: approximate maximum-inner-product search with hnswlib's HNSW
// graph (inner-product space). Exclusions are honoured by asking the graph
// for k + |excluded| neighbours and skipping excluded ones; when that still
// leaves fewer than k (or the exclusion list is very long) the query is
// answered by an exact scan instead, so the Scorer contract always holds.
// The graph can be saved as a blob and loaded back (hnsw_serialization.h)
// instead of being built again: the model store keeps it with the version.
#ifndef AFFINITY_SERVER_SCORING_HNSW_SCORER_H_
#define AFFINITY_SERVER_SCORING_HNSW_SCORER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_serialization.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace affinity::server {

class HnswScorer : public Scorer {
 public:
  // Builds the graph over every row of `items` with options.build_threads.
  // ResourceExhausted when the graph cannot be allocated, Internal when
  // hnswlib fails while adding a point, Cancelled when options.cancel rises;
  // nothing throws.
  static absl::StatusOr<std::unique_ptr<HnswScorer>> Build(
      std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options);
  // Reads a graph saved by Save from `source`, checked against `items` and
  // options' hnsw_m and hnsw_ef_construction (ReadHnsw's errors).
  static absl::StatusOr<std::unique_ptr<HnswScorer>> Load(
      std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options,
      const ByteSource& source);
  ~HnswScorer() override;

  // How a stored graph is named: kind "hnsw", params
  // "M=<hnsw_m>,ef_construction=<hnsw_ef_construction>" (the parameters
  // that shape the graph; hnsw_ef is a search setting) and kHnswFormat.
  static constexpr char kIndexKind[] = "hnsw";
  static std::string IndexParams(const ScorerOptions& options);

  // Writes the graph in hnswlib's saveIndex layout. Thread-safe with
  // queries (the graph does not change).
  absl::Status Save(const ByteSink& sink) const;
  // The same bytes in a file, written by hnswlib's own saveIndex (for tools
  // that read hnswlib files).
  absl::Status SaveFile(const std::string& path) const;

  const char* name() const override { return "hnsw"; }
  size_t items() const override { return items_->rows(); }
  ScoringResult TopK(const ScoringQuery& query) const override;
  const ScorerOptions& options() const { return options_; }
  // Search breadth for later queries. Not safe while queries are running.
  void SetEf(size_t ef);

 private:
  HnswScorer(std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options);

  std::shared_ptr<const ItemMatrix> items_;
  ScorerOptions options_;
  ExactScorer exact_;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_SCORING_HNSW_SCORER_H_
