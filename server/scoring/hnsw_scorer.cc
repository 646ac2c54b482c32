#include "server/scoring/hnsw_scorer.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

// Beyond this many requested neighbours a graph search is no cheaper than a
// scan; the exact scorer answers instead.
constexpr size_t kMaxGraphCandidates = 4096;

}  // namespace

HnswScorer::HnswScorer(std::shared_ptr<const ItemMatrix> items,
                       const ScorerOptions& options)
    : items_(items), options_(options), exact_(items, ExactScorerOptions{options.scan_pool}) {}

HnswScorer::~HnswScorer() = default;

absl::StatusOr<std::unique_ptr<HnswScorer>> HnswScorer::Build(
    std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options) {
  std::unique_ptr<HnswScorer> scorer(new HnswScorer(items, options));
  const size_t rows = items->rows();
  try {
    scorer->space_ = std::make_unique<hnswlib::InnerProductSpace>(items->dims());
    scorer->index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        scorer->space_.get(), std::max<size_t>(rows, 1), options.hnsw_m,
        options.hnsw_ef_construction);
    scorer->index_->setEf(options.hnsw_ef);
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hnsw: cannot allocate an index of ", rows, " items: ", e.what()));
  }
  if (rows == 0) return scorer;
  hnswlib::HierarchicalNSW<float>* index = scorer->index_.get();
  try {
    index->addPoint(items->row(0), 0);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnsw: build failed: ", e.what()));
  }
  std::atomic<size_t> next{1};
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  auto worker = [&] {
    for (size_t i = next++; i < rows && !failed; i = next++) {
      if (options.cancel != nullptr && (i & 1023) == 0 && options.cancel->load()) {
        std::lock_guard<std::mutex> lock(error_mu);
        failed = true;
        error = "cancelled";
        break;
      }
      try {
        index->addPoint(items->row(i), i);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mu);
        failed = true;
        error = e.what();
      }
    }
  };
  const int threads = std::max(1, options.build_threads);
  std::vector<std::thread> pool;
  try {
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  } catch (const std::system_error&) {
    // Fewer threads than asked for: the ones started and this one build it.
  }
  worker();
  for (std::thread& t : pool) t.join();
  if (failed) {
    if (error == "cancelled") return absl::CancelledError("hnsw: build cancelled");
    return absl::InternalError(absl::StrCat("hnsw: build failed: ", error));
  }
  return scorer;
}

void HnswScorer::SetEf(size_t ef) {
  options_.hnsw_ef = ef;
  index_->setEf(ef);
}

ScoringResult HnswScorer::TopK(const ScoringQuery& query) const {
  const size_t rows = items_->rows();
  const size_t excluded = query.excluded == nullptr ? 0 : query.excluded->size();
  size_t want = std::min(rows, query.k + excluded);
  if (query.k == 0 || want == 0) return ScoringResult{};
  if (query.allowed != nullptr) {
    // Graph search, then keep allowed items: ask for enough neighbours that
    // k allowed ones are expected among them; selective filters scan.
    const size_t allowed = query.allowed->count();
    if (allowed == 0) return ScoringResult{};
    want = std::min(rows, want * ((rows + allowed - 1) / allowed));
  }
  if (want > kMaxGraphCandidates || query.vector.size() < items_->dims()) {
    return exact_.TopK(query);
  }
  std::priority_queue<std::pair<float, hnswlib::labeltype>> found;
  try {
    found = index_->searchKnn(query.vector.data(), want);
  } catch (const std::exception&) {
    return exact_.TopK(query);
  }
  // found pops worst (largest distance = 1 - dot) first.
  std::vector<ScoredIndex> items;
  items.reserve(found.size());
  while (!found.empty()) {
    const auto [distance, label] = found.top();
    found.pop();
    const uint32_t index = static_cast<uint32_t>(label);
    if (query.excluded != nullptr && query.excluded->Contains(index)) continue;
    if (query.allowed != nullptr && !query.allowed->Contains(index)) continue;
    (void)distance;
    const float* row = items_->row(index);
    float score = 0;
    for (size_t d = 0; d < items_->dims(); ++d) score += row[d] * query.vector[d];
    items.push_back(ScoredIndex{index, score});
  }
  const size_t available =
      query.allowed != nullptr ? query.allowed->count() : rows - std::min(rows, excluded);
  if (items.size() < std::min(query.k, available)) {
    return exact_.TopK(query);
  }
  std::sort(items.begin(), items.end(),
            [](const ScoredIndex& a, const ScoredIndex& b) {
              return a.score != b.score ? a.score > b.score : a.index < b.index;
            });
  if (items.size() > query.k) items.resize(query.k);
  return ScoringResult{std::move(items),
                       static_cast<uint64_t>(std::max(options_.hnsw_ef, want))};
}

}  // namespace affinity::server
