#include "server/scoring/ivf_scorer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "server/scoring/dot_kernels.h"
#include "server/scoring/kmeans.h"
#include "server/scoring/rerank.h"

namespace affinity::server {
namespace {

// Blocks per kernel call: 1,024 rows of int32 sums stay in L1.
constexpr size_t kChunkBlocks = 64;
constexpr size_t kChunkRows = kChunkBlocks * kInt8BlockRows;

size_t RoundUpToBlock(size_t rows) {
  return (rows + kInt8BlockRows - 1) / kInt8BlockRows * kInt8BlockRows;
}

}  // namespace

size_t IvfScorer::DefaultLists(size_t items) {
  return std::max<size_t>(1, static_cast<size_t>(std::lround(std::sqrt(double(items)))));
}

IvfScorer::IvfScorer(std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options,
                     Int8Isa isa)
    : items_(items),
      candidate_factor_(std::max<size_t>(options.int8_candidate_factor, 1)),
      probes_(0),
      isa_(isa),
      exact_(items, ExactScorerOptions{options.scan_pool}) {}

namespace {

KMeansOptions ListOptions(const ScorerOptions& options, size_t items) {
  KMeansOptions kmeans;
  // At least 1 (k-means refuses 0); with no rows it makes none anyway.
  kmeans.clusters = std::max<size_t>(IvfScorer::ListsFor(options, items), 1);
  // Not split over options.scan_pool: those threads serve requests, and
  // a version loading beside a serving one must leave them the cores (the
  // loading thread runs at --load_nice).
  kmeans.cancel = options.cancel;
  return kmeans;
}

}  // namespace

size_t IvfScorer::ListsFor(const ScorerOptions& options, size_t items) {
  const size_t wanted = options.ivf_lists > 0 ? options.ivf_lists : DefaultLists(items);
  return std::min(wanted, items);  // k-means: one row per cluster at most
}

std::string IvfScorer::IndexParams(size_t lists) {
  const KMeansOptions kmeans;  // the settings ListOptions leaves as they are
  return absl::StrCat("lists=", lists, ",iterations=", kmeans.iterations,
                      ",sample=", kmeans.sample_per_cluster, ",seed=", kmeans.seed);
}

absl::StatusOr<IvfLists> IvfScorer::TrainLists(const ItemMatrix& items,
                                               const ScorerOptions& options) {
  try {
    absl::StatusOr<KMeansResult> trained = TrainKMeans(items, ListOptions(options, items.rows()));
    if (!trained.ok()) return trained.status();
    IvfLists lists;
    lists.centroids = std::move(trained->centroids);
    lists.assignment = std::move(trained->assignment);
    return lists;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("ivf: out of memory training the lists");
  }
}

absl::StatusOr<std::unique_ptr<IvfScorer>> IvfScorer::Build(
    std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options, Int8Isa isa) {
  absl::StatusOr<IvfLists> lists = TrainLists(*items, options);
  if (!lists.ok()) return lists.status();
  return FromLists(std::move(items), *std::move(lists), options, isa);
}

absl::StatusOr<std::unique_ptr<IvfScorer>> IvfScorer::FromLists(
    std::shared_ptr<const ItemMatrix> items, IvfLists lists_in, const ScorerOptions& options,
    Int8Isa isa) {
  const size_t rows = items->rows();
  if (lists_in.centroids == nullptr || lists_in.assignment.size() != rows ||
      (rows > 0 && lists_in.centroids->dims() != items->dims())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ivf: lists of ", lists_in.assignment.size(), " items x ",
        lists_in.centroids == nullptr ? 0 : lists_in.centroids->dims(), " dims for ", rows,
        " items x ", items->dims(), " dims"));
  }
  const size_t lists = lists_in.centroids->rows();
  for (size_t i = 0; i < rows; ++i) {
    if (lists_in.assignment[i] >= lists) {
      return absl::InvalidArgumentError(absl::StrCat("ivf: item ", i, " in list ",
                                                     lists_in.assignment[i], " of ", lists));
    }
  }
  try {
    std::unique_ptr<IvfScorer> scorer(new IvfScorer(items, options, isa));
    // Each list's rows in item order, padded to whole blocks.
    std::vector<uint32_t>& sizes = scorer->list_sizes_;
    sizes.assign(lists, 0);
    for (uint32_t list : lists_in.assignment) ++sizes[list];
    scorer->list_begin_.assign(lists + 1, 0);
    for (size_t l = 0; l < lists; ++l) {
      const size_t end = scorer->list_begin_[l] + RoundUpToBlock(sizes[l]);
      if (end > std::numeric_limits<uint32_t>::max()) {
        return absl::ResourceExhaustedError("ivf: too many rows");
      }
      scorer->list_begin_[l + 1] = static_cast<uint32_t>(end);
    }
    scorer->order_.assign(scorer->list_begin_[lists], Int8Matrix::kNoRow);
    std::vector<uint32_t> next(scorer->list_begin_.begin(), scorer->list_begin_.end() - 1);
    for (size_t i = 0; i < rows; ++i) {
      scorer->order_[next[lists_in.assignment[i]]++] = static_cast<uint32_t>(i);
    }
    scorer->int8_ = std::make_unique<const Int8Matrix>(*items, scorer->order_);
    scorer->centroids_ = std::move(lists_in.centroids);
    scorer->probes_ = options.ivf_probes > 0
                          ? std::min(options.ivf_probes, lists)
                          : std::max<size_t>(1, lists / kDefaultProbeDivisor);
    return scorer;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("ivf: out of memory building the lists");
  }
}

std::vector<uint32_t> IvfScorer::Assignment() const {
  std::vector<uint32_t> assignment(items_->rows());
  for (size_t l = 0; l + 1 < list_begin_.size(); ++l) {
    for (size_t row = list_begin_[l]; row < list_begin_[l + 1]; ++row) {
      if (order_[row] != Int8Matrix::kNoRow) assignment[order_[row]] = static_cast<uint32_t>(l);
    }
  }
  return assignment;
}

size_t IvfScorer::ListSize(size_t l) const { return list_sizes_[l]; }

ScoringResult IvfScorer::TopK(const ScoringQuery& query) const {
  const ItemMatrix& m = *items_;
  if (query.k == 0 || m.rows() == 0) return ScoringResult{};
  if (exact_.UsesGather(query)) return exact_.TopK(query);
  const std::vector<float> padded = m.PadQuery(query.vector);

  // Lists best first by the inner product of their centroid with the query;
  // past the first probes_, sorted only when a query needs more.
  const size_t nlists = lists();
  std::vector<float> centroid_scores(nlists);
  DotRowsLanes(centroids_->data(), nlists, centroids_->stride(), centroids_->dims(),
               padded.data(), centroid_scores.data());
  // A centroid of non-finite vectors ranks last (and keeps the ordering strict).
  for (float& score : centroid_scores) {
    if (std::isnan(score)) score = -std::numeric_limits<float>::infinity();
  }
  std::vector<uint32_t> ranked(nlists);
  std::iota(ranked.begin(), ranked.end(), 0u);
  auto better = [&](uint32_t a, uint32_t b) {
    return centroid_scores[a] != centroid_scores[b] ? centroid_scores[a] > centroid_scores[b]
                                                    : a < b;
  };
  const size_t first = std::min(probes_, nlists);
  std::partial_sort(ranked.begin(), ranked.begin() + first, ranked.end(), better);

  const Int8Query q8 = int8_->Quantize(query.vector);
  const int8_t* q8_values = q8.values.data();
  const size_t k = query.k;
  const size_t want = CandidateCount(k, candidate_factor_, m.rows());
  TopKSelector selector(want, query.excluded, query.allowed, query.also_allowed);
  int32_t dots[kChunkRows];
  uint64_t masks[kChunkRows / 64];
  const float* scales = int8_->scales();
  uint64_t scanned = 0;
  // Rows to scan at least: kRowsPerCandidate per candidate wanted, more when
  // a filter allows only part of the items (its share estimated over all).
  const size_t allowed = query.allowed == nullptr ? m.rows() : query.allowed->count();
  const double min_rows = static_cast<double>(kRowsPerCandidate) * static_cast<double>(want) *
                          static_cast<double>(m.rows()) /
                          static_cast<double>(std::max<size_t>(allowed, 1));
  for (size_t r = 0; r < nlists; ++r) {
    if (r >= first && selector.HasK() && static_cast<double>(scanned) >= min_rows) break;
    if (r == first) std::sort(ranked.begin() + first, ranked.end(), better);
    const uint32_t list = ranked[r];
    const size_t end_block = list_begin_[list + 1] / kInt8BlockRows;
    for (size_t b = list_begin_[list] / kInt8BlockRows; b < end_block; b += kChunkBlocks) {
      const size_t nb = std::min(kChunkBlocks, end_block - b);
      const size_t n = nb * kInt8BlockRows;
      const size_t row0 = b * kInt8BlockRows;
      Int8DotBlocks(isa_, int8_->block(b), nb, int8_->groups(), &q8_values, 1, dots);
      if (!Int8ScoresAtOrAbove(isa_, dots, scales + row0, q8.scale, selector.threshold(), n,
                               masks)) {
        continue;
      }
      for (size_t w = 0; w * 64 < n; ++w) {
        for (uint64_t bits = masks[w]; bits != 0; bits &= bits - 1) {
          const size_t i = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
          const uint32_t item = order_[row0 + i];
          if (item == Int8Matrix::kNoRow) continue;
          selector.Push(item, Int8Score(dots[i], scales[row0 + i], q8.scale));
        }
      }
    }
    scanned += ListSize(list);
  }

  ScoringResult result;
  result.not_allowed = selector.not_allowed();
  result.excluded_hits = selector.excluded_hits();
  result.items_scored = scanned;
  const auto rerank_start = std::chrono::steady_clock::now();
  result.items = RerankExactly(m, padded, selector.Take(), k);
  result.rerank_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - rerank_start).count();
  return result;
}

}  // namespace affinity::server
