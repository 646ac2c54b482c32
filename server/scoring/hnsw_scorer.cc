#include "server/scoring/hnsw_scorer.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/scoring/hnsw_serialization.h"

// hnswlib 0.6's headers define functions that are not inline, so only one
// translation unit of a binary may include them: this one, which holds the
// graph's serialization (hnsw_serialization.h) as well as the scorer.

namespace affinity::server {

// ---- Serialization (hnsw_serialization.h) ----

namespace {

using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::linklistsizeint;
using hnswlib::tableint;

template <typename T>
absl::string_view Pod(const T& value) {
  return absl::string_view(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
absl::Status ReadPod(const ByteSource& source, T* value) {
  return source(absl::MakeSpan(reinterpret_cast<char*>(value), sizeof(T)));
}

absl::Status Malformed(const std::string& what) {
  return absl::DataLossError(absl::StrCat("hnsw index blob: ", what));
}

absl::Status Mismatch(const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat("hnsw index blob: ", what));
}

// Neighbour list `list` (count in its first 2 bytes, as hnswlib's
// getListCount reads it) holds at most `max` ids, each below `elements`.
absl::Status CheckList(const linklistsizeint* list, size_t max, size_t elements, size_t element,
                       int level) {
  const size_t count = *reinterpret_cast<const unsigned short*>(list);
  if (count > max) {
    return Malformed(absl::StrCat("element ", element, " has ", count, " neighbours at level ",
                                  level, ", expected at most ", max));
  }
  const tableint* ids = reinterpret_cast<const tableint*>(list + 1);
  for (size_t j = 0; j < count; ++j) {
    if (ids[j] >= elements) {
      return Malformed(absl::StrCat("element ", element, " links to ", ids[j], " at level ", level,
                                    ", expected ids below ", elements));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadInto(Graph& g, hnswlib::SpaceInterface<float>* space,
                      const HnswExpectation& expected, const ByteSource& source) {
  const ItemMatrix& items = *expected.items;
  size_t max_elements = 0;
  size_t count = 0;
  for (auto s : {ReadPod(source, &g.offsetLevel0_), ReadPod(source, &max_elements),
                 ReadPod(source, &count), ReadPod(source, &g.size_data_per_element_),
                 ReadPod(source, &g.label_offset_), ReadPod(source, &g.offsetData_),
                 ReadPod(source, &g.maxlevel_), ReadPod(source, &g.enterpoint_node_),
                 ReadPod(source, &g.maxM_), ReadPod(source, &g.maxM0_), ReadPod(source, &g.M_),
                 ReadPod(source, &g.mult_), ReadPod(source, &g.ef_construction_)}) {
    if (!s.ok()) return s;
  }
  g.data_size_ = space->get_data_size();
  g.fstdistfunc_ = space->get_dist_func();
  g.dist_func_param_ = space->get_dist_func_param();
  if (count != items.rows()) {
    return Mismatch(absl::StrCat(count, " elements, expected the version's ", items.rows(),
                                 " items"));
  }
  const size_t want_ef = std::max(expected.ef_construction, expected.m);
  if (g.M_ != expected.m || g.maxM_ != expected.m || g.maxM0_ != 2 * expected.m ||
      g.ef_construction_ != want_ef) {
    return Mismatch(absl::StrCat("M=", g.M_, " (maxM ", g.maxM_, ", maxM0 ", g.maxM0_,
                                 "), ef_construction=", g.ef_construction_, "; expected M=",
                                 expected.m, ", ef_construction=", want_ef));
  }
  g.size_links_level0_ = g.maxM0_ * sizeof(tableint) + sizeof(linklistsizeint);
  g.size_links_per_element_ = g.maxM_ * sizeof(tableint) + sizeof(linklistsizeint);
  if (g.offsetLevel0_ != 0 || g.offsetData_ != g.size_links_level0_ ||
      g.label_offset_ < g.offsetData_ ||
      g.size_data_per_element_ != g.label_offset_ + sizeof(hnswlib::labeltype)) {
    return Malformed(absl::StrCat("element layout ", g.offsetLevel0_, "/", g.offsetData_, "/",
                                  g.label_offset_, "/", g.size_data_per_element_,
                                  " does not match its parameters"));
  }
  if (g.label_offset_ - g.offsetData_ != g.data_size_) {
    return Mismatch(absl::StrCat("vectors of ", g.label_offset_ - g.offsetData_,
                                 " bytes, expected ", items.dims(), " floats"));
  }
  if (!std::isfinite(g.mult_) || g.mult_ <= 0) return Malformed("level multiplier");
  if (count > 0 && (g.maxlevel_ < 0 || g.maxlevel_ > 64 || g.enterpoint_node_ >= count)) {
    return Malformed(absl::StrCat("top level ", g.maxlevel_, ", entry point ",
                                  g.enterpoint_node_));
  }
  g.max_elements_ = std::max<size_t>(count, 1);
  g.revSize_ = 1.0 / g.mult_;
  g.ef_ = 10;

  g.data_level0_memory_ = static_cast<char*>(std::malloc(g.max_elements_ * g.size_data_per_element_));
  g.linkLists_ = static_cast<char**>(std::calloc(g.max_elements_, sizeof(char*)));
  if (g.data_level0_memory_ == nullptr || g.linkLists_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hnsw index blob: cannot allocate ", count, " elements"));
  }
  std::vector<int>(g.max_elements_, 0).swap(g.element_levels_);
  std::vector<std::mutex>(g.max_elements_).swap(g.link_list_locks_);
  std::vector<std::mutex>(Graph::max_update_element_locks).swap(g.link_list_update_locks_);
  g.visited_list_pool_ = new hnswlib::VisitedListPool(1, g.max_elements_);
  // From here on the destructor frees what is allocated.
  g.cur_element_count = count;
  if (absl::Status s = source(absl::MakeSpan(g.data_level0_memory_, count * g.size_data_per_element_));
      !s.ok()) {
    return s;
  }
  std::vector<bool> seen(count, false);
  g.label_lookup_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const hnswlib::labeltype label = g.getExternalLabel(static_cast<tableint>(i));
    if (label >= count || seen[label]) {
      return Malformed(absl::StrCat("element ", i, " has label ", label,
                                    ", expected each of 0..", count - 1, " once"));
    }
    seen[label] = true;
    if (std::memcmp(g.getDataByInternalId(static_cast<tableint>(i)), items.row(label),
                    g.data_size_) != 0) {
      return Mismatch(absl::StrCat("the vector of item ", label,
                                   " differs from the version's: built from other vectors"));
    }
    if (absl::Status s = CheckList(g.get_linklist0(static_cast<tableint>(i)), g.maxM0_, count, i, 0);
        !s.ok()) {
      return s;
    }
    if (g.isMarkedDeleted(static_cast<tableint>(i))) {
      return Malformed(absl::StrCat("element ", i, " is marked deleted, expected none"));
    }
    g.label_lookup_[label] = static_cast<tableint>(i);
  }
  for (size_t i = 0; i < count; ++i) {
    unsigned int bytes = 0;
    if (absl::Status s = ReadPod(source, &bytes); !s.ok()) return s;
    if (bytes == 0) continue;
    if (bytes % g.size_links_per_element_ != 0 ||
        bytes / g.size_links_per_element_ > static_cast<size_t>(g.maxlevel_)) {
      return Malformed(absl::StrCat("element ", i, " has ", bytes,
                                    " bytes of upper-level links, expected a multiple of ",
                                    g.size_links_per_element_, " up to level ", g.maxlevel_));
    }
    g.linkLists_[i] = static_cast<char*>(std::malloc(bytes));
    if (g.linkLists_[i] == nullptr) {
      return absl::ResourceExhaustedError("hnsw index blob: cannot allocate a link list");
    }
    g.element_levels_[i] = static_cast<int>(bytes / g.size_links_per_element_);
    if (absl::Status s = source(absl::MakeSpan(g.linkLists_[i], bytes)); !s.ok()) return s;
    for (int level = 1; level <= g.element_levels_[i]; ++level) {
      if (absl::Status s = CheckList(g.get_linklist(static_cast<tableint>(i), level), g.maxM_,
                                     count, i, level);
          !s.ok()) {
        return s;
      }
    }
  }
  if (count > 0 && g.element_levels_[g.enterpoint_node_] != g.maxlevel_) {
    return Malformed(absl::StrCat("entry point ", g.enterpoint_node_, " is at level ",
                                  g.element_levels_[g.enterpoint_node_], ", expected the top ",
                                  g.maxlevel_));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteHnsw(const Graph& g, const ByteSink& sink) {
  const size_t count = g.cur_element_count;
  for (absl::string_view field :
       {Pod(g.offsetLevel0_), Pod(g.max_elements_), Pod(count), Pod(g.size_data_per_element_),
        Pod(g.label_offset_), Pod(g.offsetData_), Pod(g.maxlevel_), Pod(g.enterpoint_node_),
        Pod(g.maxM_), Pod(g.maxM0_), Pod(g.M_), Pod(g.mult_), Pod(g.ef_construction_)}) {
    if (absl::Status s = sink(field); !s.ok()) return s;
  }
  if (absl::Status s =
          sink(absl::string_view(g.data_level0_memory_, count * g.size_data_per_element_));
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < count; ++i) {
    const unsigned int bytes =
        g.element_levels_[i] > 0 ? g.size_links_per_element_ * g.element_levels_[i] : 0;
    if (absl::Status s = sink(Pod(bytes)); !s.ok()) return s;
    if (bytes == 0) continue;
    if (absl::Status s = sink(absl::string_view(g.linkLists_[i], bytes)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Graph>> ReadHnsw(hnswlib::SpaceInterface<float>* space,
                                                const HnswExpectation& expected,
                                                const ByteSource& source) {
  if (expected.items == nullptr) return absl::InvalidArgumentError("ReadHnsw: no items");
  std::unique_ptr<Graph> graph;
  try {
    // This constructor initializes nothing (hnswlib's loadIndex fills the
    // fields); make the destructor safe before anything can fail.
    graph = std::make_unique<Graph>(space);
    graph->cur_element_count = 0;
    graph->num_deleted_ = 0;
    graph->data_level0_memory_ = nullptr;
    graph->linkLists_ = nullptr;
    graph->visited_list_pool_ = nullptr;
    if (absl::Status s = ReadInto(*graph, space, expected, source); !s.ok()) return s;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("hnsw index blob: out of memory while loading");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnsw index blob: ", e.what()));
  }
  return graph;
}


// ---- HnswScorer ----

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

absl::StatusOr<std::unique_ptr<HnswScorer>> HnswScorer::Load(
    std::shared_ptr<const ItemMatrix> items, const ScorerOptions& options,
    const ByteSource& source) {
  std::unique_ptr<HnswScorer> scorer(new HnswScorer(items, options));
  try {
    scorer->space_ = std::make_unique<hnswlib::InnerProductSpace>(items->dims());
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(absl::StrCat("hnsw: ", e.what()));
  }
  HnswExpectation expected;
  expected.items = items.get();
  expected.m = options.hnsw_m;
  expected.ef_construction = options.hnsw_ef_construction;
  auto index = ReadHnsw(scorer->space_.get(), expected, source);
  if (!index.ok()) return index.status();
  scorer->index_ = *std::move(index);
  scorer->index_->setEf(options.hnsw_ef);
  return scorer;
}

std::string HnswScorer::IndexParams(const ScorerOptions& options) {
  return absl::StrCat("M=", options.hnsw_m, ",ef_construction=", options.hnsw_ef_construction);
}

absl::Status HnswScorer::Save(const ByteSink& sink) const { return WriteHnsw(*index_, sink); }

absl::Status HnswScorer::SaveFile(const std::string& path) const {
  try {
    index_->saveIndex(path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnsw: saving ", path, ": ", e.what()));
  }
  std::ifstream check(path, std::ios::binary);
  if (!check) return absl::UnavailableError(absl::StrCat("hnsw: cannot write ", path));
  return absl::OkStatus();
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
    if (query.also_allowed != nullptr && !query.also_allowed->Allows(index)) continue;
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
