#include "server/scoring/scorer.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/ivf_scorer.h"
#include "server/scoring/int8_scorer.h"

namespace affinity::server {

std::vector<ScoringResult> Scorer::TopKBatch(
    absl::Span<const ScoringQuery> queries) const {
  std::vector<ScoringResult> out;
  out.reserve(queries.size());
  for (const ScoringQuery& q : queries) out.push_back(TopK(q));
  return out;
}

absl::StatusOr<ScorerKind> ParseScorerKind(absl::string_view name) {
  if (name == "exact") return ScorerKind::kExact;
  if (name == "hnsw") return ScorerKind::kHnsw;
  if (name == "int8") return ScorerKind::kInt8;
  if (name == "ivf") return ScorerKind::kIvf;
  return absl::InvalidArgumentError(absl::StrCat(
      "--scorer: expected \"exact\", \"int8\", \"ivf\" or \"hnsw\", got \"", name, "\""));
}

absl::StatusOr<std::unique_ptr<Scorer>> MakeScorer(
    std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options) {
  switch (options.kind) {
    case ScorerKind::kExact:
      return std::unique_ptr<Scorer>(
          new ExactScorer(std::move(items), ExactScorerOptions{options.scan_pool}));
    case ScorerKind::kInt8:
      return std::unique_ptr<Scorer>(new Int8Scorer(
          std::move(items), options.int8_candidate_factor, BestInt8Isa(), options.scan_pool,
          Int8Scorer::kDefaultMinRowsPerPart, /*sample_first=*/true,
          options.int8_allowed_copy_bytes < 0
              ? std::nullopt
              : std::optional<size_t>(static_cast<size_t>(options.int8_allowed_copy_bytes))));
    case ScorerKind::kIvf: {
      auto ivf = IvfScorer::Build(std::move(items), options);
      if (!ivf.ok()) return ivf.status();
      return std::unique_ptr<Scorer>(std::move(*ivf));
    }
    case ScorerKind::kHnsw: {
      auto hnsw = HnswScorer::Build(std::move(items), options);
      if (!hnsw.ok()) return hnsw.status();
      return std::unique_ptr<Scorer>(std::move(*hnsw));
    }
  }
  return absl::InvalidArgumentError("unknown scorer kind");
}

}  // namespace affinity::server
