// Scorer benchmarks: exact top-10 (one query, and micro-batches of 32) over
// 100k and 1M items x 64 dims, and HNSW top-10 over 1M x 64 with its
// recall@10 against the exact answer. Counters: p50_us / p99_us per query,
// queries per second (qps), recall_at_10.
//
// Data are synthetic and clustered like ALS factors: 256 topic directions,
// every item a scaled topic direction plus noise, every query a mix of two
// topics plus noise. The HNSW index is built once per process (nothing is
// written to disk); AFFINITY_BENCH_HNSW_ITEMS overrides its item count.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/dot_kernels.h"
#include "server/exact_scorer.h"
#include "server/hnsw_scorer.h"
#include "server/item_matrix.h"

namespace affinity::server {
namespace {

constexpr size_t kDims = 64;
constexpr size_t kTopics = 256;
constexpr size_t kQueries = 256;

struct Dataset {
  std::shared_ptr<const ItemMatrix> items;
  std::vector<std::vector<float>> queries;
};

const Dataset& GetDataset(size_t rows) {
  static std::map<size_t, std::unique_ptr<Dataset>>* cache =
      new std::map<size_t, std::unique_ptr<Dataset>>();
  auto& slot = (*cache)[rows];
  if (slot != nullptr) return *slot;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> scale(0.0f, 0.4f);
  std::vector<std::vector<float>> topics(kTopics, std::vector<float>(kDims));
  for (auto& t : topics)
    for (float& v : t) v = normal(rng);
  std::vector<float> dense(rows * kDims);
  std::uniform_int_distribution<size_t> topic(0, kTopics - 1);
  for (size_t i = 0; i < rows; ++i) {
    const auto& t = topics[topic(rng)];
    const float s = scale(rng);
    for (size_t d = 0; d < kDims; ++d) dense[i * kDims + d] = 0.1f * (s * t[d] + 0.5f * normal(rng));
  }
  slot = std::make_unique<Dataset>();
  slot->items = ItemMatrix::FromDense(dense, rows, kDims);
  for (size_t q = 0; q < kQueries; ++q) {
    const auto& a = topics[topic(rng)];
    const auto& b = topics[topic(rng)];
    std::vector<float> v(kDims);
    for (size_t d = 0; d < kDims; ++d) v[d] = 0.7f * a[d] + 0.3f * b[d] + 0.3f * normal(rng);
    slot->queries.push_back(std::move(v));
  }
  return *slot;
}

void ReportLatencies(benchmark::State& state, std::vector<double> us, size_t queries_per_iter) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["qps"] = benchmark::Counter(
      static_cast<double>(state.iterations() * queries_per_iter), benchmark::Counter::kIsRate);
}

void BM_ExactTop10(benchmark::State& state) {
  const Dataset& data = GetDataset(static_cast<size_t>(state.range(0)));
  ExactScorer scorer(data.items);
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ScoringResult r = scorer.TopK({data.queries[q++ % kQueries], 10, &none});
    benchmark::DoNotOptimize(r);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetLabel(DotKernelIsa());
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_ExactTop10)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_ExactTop10Batch32(benchmark::State& state) {
  const Dataset& data = GetDataset(static_cast<size_t>(state.range(0)));
  ExactScorer scorer(data.items);
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    std::vector<ScoringQuery> batch;
    for (int i = 0; i < 32; ++i) batch.push_back({data.queries[q++ % kQueries], 10, &none});
    const auto start = std::chrono::steady_clock::now();
    auto r = scorer.TopKBatch(batch);
    benchmark::DoNotOptimize(r);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 32);
  }
  state.SetLabel("per-query latency = batch time / 32");
  ReportLatencies(state, std::move(us), 32);
}
BENCHMARK(BM_ExactTop10Batch32)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

size_t HnswItems() {
  const char* env = std::getenv("AFFINITY_BENCH_HNSW_ITEMS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1000000;
}

struct HnswFixture {
  std::unique_ptr<HnswScorer> scorer;
  std::vector<std::set<uint32_t>> truth;
  double build_seconds = 0;
};

HnswFixture& GetHnsw() {
  static HnswFixture* fixture = [] {
    auto* f = new HnswFixture();
    const Dataset& data = GetDataset(HnswItems());
    ScorerOptions options;
    options.kind = ScorerKind::kHnsw;
    options.hnsw_m = 16;
    options.hnsw_ef_construction = 200;
    options.build_threads = 2;
    const auto start = std::chrono::steady_clock::now();
    auto built = HnswScorer::Build(data.items, options);
    f->build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!built.ok()) std::abort();
    f->scorer = std::move(*built);
    ExactScorer exact(data.items);
    ExclusionSet none;
    for (const auto& q : data.queries) {
      std::set<uint32_t> top;
      for (const ScoredIndex& s : exact.TopK({q, 10, &none}).items) top.insert(s.index);
      f->truth.push_back(std::move(top));
    }
    return f;
  }();
  return *fixture;
}

void BM_HnswTop10(benchmark::State& state) {
  HnswFixture& f = GetHnsw();
  const Dataset& data = GetDataset(HnswItems());
  f.scorer->SetEf(static_cast<size_t>(state.range(0)));
  ExclusionSet none;
  std::vector<double> us;
  size_t hits = 0, total = 0, q = 0;
  for (auto _ : state) {
    const size_t i = q++ % kQueries;
    const auto start = std::chrono::steady_clock::now();
    ScoringResult r = f.scorer->TopK({data.queries[i], 10, &none});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    for (const ScoredIndex& s : r.items) hits += f.truth[i].count(s.index);
    total += 10;
  }
  state.counters["recall_at_10"] = total == 0 ? 0 : double(hits) / total;
  state.counters["items"] = static_cast<double>(data.items->rows());
  state.counters["build_s"] = f.build_seconds;
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_HnswTop10)->Arg(50)->Arg(100)->Arg(200)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace affinity::server
