// Scorer benchmarks: exact and int8 top-10 (one query, and micro-batches of
// 32) over 100k and 1M items x 64 dims, the int8 candidate stage's recall on
// three kinds of data, the int8 kernel alone per path (BM_Int8DotBlocks),
// the int8 scan of a batch with the homepage rules (BM_Int8HomepageBatch32),
// and HNSW top-10 over 1M x 64 with its recall@10
// against the exact answer, and the IVF scorer's top-10 with its recall.
// Counters: p50_us / p99_us per call (for the Batch32 benchmarks a call is
// a batch of 32: what each query of a batch that arrived together waits),
// queries per second (qps), recall_at_10, candidate_recall, exact_answers.
//
// Data are synthetic and clustered like ALS factors: 256 topic directions,
// every item a scaled topic direction plus noise, every query a mix of two
// topics plus noise. Rule benchmarks (BM_Rules*) add a synthetic catalog
// (8 brands, 10 categories, 30% of items in the filtered set) and run the
// scan with the allowed bitmap plus diversity and pin stages. The HNSW index is built once per process (nothing is
// written to disk); AFFINITY_BENCH_HNSW_ITEMS overrides its item count.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/scoring/dot_kernels.h"
#include "server/scoring/exact_scorer.h"
#include "server/scoring/hnsw_scorer.h"
#include "server/scoring/int8_scorer.h"
#include "server/scoring/ivf_scorer.h"
#include "server/scoring/item_matrix.h"
#include "server/rules/compiled_rules.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_stages.h"

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
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetLabel("p50/p99: a batch of 32; qps: queries");
  ReportLatencies(state, std::move(us), 32);
}
BENCHMARK(BM_ExactTop10Batch32)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The int8 scorer (candidate factor 4), same data and queries as the exact
// benchmarks. Arg: items.
void BM_Int8Top10(benchmark::State& state) {
  const Dataset& data = GetDataset(static_cast<size_t>(state.range(0)));
  Int8Scorer scorer(data.items, 4);
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ScoringResult r = scorer.TopK({data.queries[q++ % kQueries], 10, &none});
    benchmark::DoNotOptimize(r);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetLabel(Int8IsaName(scorer.isa()));
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_Int8Top10)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Int8Top10Batch32(benchmark::State& state) {
  const Dataset& data = GetDataset(static_cast<size_t>(state.range(0)));
  Int8Scorer scorer(data.items, 4);
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    std::vector<ScoringQuery> batch;
    for (int i = 0; i < 32; ++i) batch.push_back({data.queries[q++ % kQueries], 10, &none});
    const auto start = std::chrono::steady_clock::now();
    auto r = scorer.TopKBatch(batch);
    benchmark::DoNotOptimize(r);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetLabel(std::string(Int8IsaName(scorer.isa())) + ", p50/p99: a batch of 32; qps: queries");
  ReportLatencies(state, std::move(us), 32);
}
BENCHMARK(BM_Int8Top10Batch32)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The int8 kernel alone (Int8DotBlocks): one pass over 1M rows of the
// int8 copy in the scorer's chunks (kInt8ScanChunkBlocks), for nq queries, no
// selection. Args: path (Int8Isa), queries. Time: the pass; qps: queries.
void BM_Int8DotBlocks(benchmark::State& state) {
  const Int8Isa isa = static_cast<Int8Isa>(state.range(0));
  const size_t nq = static_cast<size_t>(state.range(1));
  if (!Int8IsaSupported(isa)) {
    state.SkipWithError("path not supported on this CPU");
    return;
  }
  const Dataset& data = GetDataset(1000000);
  static const Int8Matrix* matrix = new Int8Matrix(*data.items);
  std::vector<Int8Query> quantized;
  std::vector<const int8_t*> pointers;
  for (size_t q = 0; q < nq; ++q) quantized.push_back(matrix->Quantize(data.queries[q]));
  for (const Int8Query& q : quantized) pointers.push_back(q.values.data());
  constexpr size_t kChunk = kInt8ScanChunkBlocks;
  std::vector<int32_t> dots(nq * kChunk * kInt8BlockRows);
  for (auto _ : state) {
    for (size_t b = 0; b < matrix->blocks(); b += kChunk) {
      const size_t nb = std::min(kChunk, matrix->blocks() - b);
      Int8DotBlocks(isa, matrix->block(b), nb, matrix->groups(), pointers.data(), nq, dots.data());
    }
    benchmark::DoNotOptimize(dots.data());
  }
  state.SetLabel(Int8IsaName(isa));
  state.counters["qps"] = benchmark::Counter(static_cast<double>(state.iterations() * nq),
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8DotBlocks)
    ->ArgsProduct({{static_cast<int64_t>(Int8Isa::kAvx512Vnni), static_cast<int64_t>(Int8Isa::kAmx)},
                   {1, 2, 4, 8, 32}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The scan step over 1M x 64 rows in the scorer's chunks for Arg(1) queries
// whose thresholds let about 1 row in 1,000 through (each query's 1,000th
// best sampled score): Arg(0) 0 is Int8DotBlocks then Int8ScoresAtOrAbove
// per query, the two steps the scan took before; 1 is Int8ScanBlocks, the
// AMX path comparing each tile in L1 (the best path: Int8ScanBlocks
// composes the two steps itself on other CPUs). Time: one pass.
void BM_Int8ScanBlocks(benchmark::State& state) {
  const bool fused = state.range(0) != 0;
  const size_t nq = static_cast<size_t>(state.range(1));
  const Int8Isa isa = BestInt8Isa();
  const Dataset& data = GetDataset(1000000);
  static const Int8Matrix* matrix = new Int8Matrix(*data.items);
  std::vector<Int8Query> quantized;
  std::vector<const int8_t*> pointers;
  std::vector<float> query_scales, thresholds;
  for (size_t q = 0; q < nq; ++q) quantized.push_back(matrix->Quantize(data.queries[q]));
  constexpr size_t kChunk = kInt8ScanChunkBlocks;
  constexpr size_t kChunkRows = kChunk * kInt8BlockRows;
  std::vector<int32_t> dots(nq * kChunkRows);
  std::vector<uint64_t> masks(nq * Int8MaskWords(kChunk));
  for (const Int8Query& q : quantized) {
    pointers.push_back(q.values.data());
    query_scales.push_back(q.scale);
    // Every 10th row's score: its 100th best passes about 1 row in 1,000.
    std::vector<float> sampled;
    const int8_t* values = q.values.data();
    for (size_t b = 0; b < matrix->blocks(); b += 10 * kChunk) {
      const size_t nb = std::min(kChunk, matrix->blocks() - b);
      Int8DotBlocks(isa, matrix->block(b), nb, matrix->groups(), &values, 1, dots.data());
      for (size_t i = 0; i < nb * kInt8BlockRows; ++i) {
        sampled.push_back(Int8Score(dots[i], matrix->scales()[b * kInt8BlockRows + i], q.scale));
      }
    }
    std::nth_element(sampled.begin(), sampled.begin() + 99, sampled.end(), std::greater<float>());
    thresholds.push_back(sampled[99]);
  }
  uint64_t passed = 0;
  for (auto _ : state) {
    for (size_t b = 0; b < matrix->blocks(); b += kChunk) {
      const size_t nb = std::min(kChunk, matrix->blocks() - b);
      const size_t first = b * kInt8BlockRows;
      const size_t n = std::min(nb * kInt8BlockRows, matrix->rows() - first);
      const float* row_scales = matrix->scales() + first;
      if (fused) {
        Int8ScanBlocks(isa, matrix->block(b), nb, matrix->groups(), pointers.data(), nq,
                       row_scales, n, query_scales.data(), thresholds.data(), dots.data(),
                       masks.data());
      } else {
        Int8DotBlocks(isa, matrix->block(b), nb, matrix->groups(), pointers.data(), nq,
                      dots.data());
        for (size_t q = 0; q < nq; ++q) {
          Int8ScoresAtOrAbove(isa, dots.data() + q * nb * kInt8BlockRows, row_scales,
                              query_scales[q], thresholds[q], n,
                              masks.data() + q * Int8MaskWords(nb));
        }
      }
      for (size_t w = 0; w < nq * Int8MaskWords(nb); ++w) passed += __builtin_popcountll(masks[w]);
    }
  }
  state.SetLabel(Int8IsaName(isa));
  state.counters["passed_per_query"] =
      static_cast<double>(passed) / static_cast<double>(state.iterations() * nq);
}
BENCHMARK(BM_Int8ScanBlocks)
    ->ArgsProduct({{0, 1}, {8, 32}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The IVF scorer with its default lists and probes (built once per item
// count, outside the timing), same data and queries; recall_at_10 against
// the exact scorer over the queries it answered. Arg: items.
void BM_IvfTop10(benchmark::State& state) {
  const Dataset& data = GetDataset(static_cast<size_t>(state.range(0)));
  ScorerOptions options;
  options.kind = ScorerKind::kIvf;
  auto built = IvfScorer::Build(data.items, options);
  if (!built.ok()) {
    state.SkipWithError(built.status().ToString().c_str());
    return;
  }
  const IvfScorer& scorer = **built;
  ExclusionSet none;
  std::vector<double> us;
  std::vector<std::vector<ScoredIndex>> answers(kQueries);
  size_t q = 0;
  for (auto _ : state) {
    const size_t i = q++ % kQueries;
    const auto start = std::chrono::steady_clock::now();
    ScoringResult r = scorer.TopK({data.queries[i], 10, &none});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    answers[i] = std::move(r.items);
  }
  ExactScorer exact(data.items);
  size_t hits = 0, answered = 0;
  for (size_t i = 0; i < kQueries && i < q; ++i) {
    std::set<uint32_t> truth;
    for (const ScoredIndex& s : exact.TopK({data.queries[i], 10, &none}).items) truth.insert(s.index);
    for (const ScoredIndex& s : answers[i]) hits += truth.count(s.index);
    ++answered;
  }
  state.counters["recall_at_10"] = answered == 0 ? 0.0 : double(hits) / (10.0 * answered);
  state.SetLabel(std::to_string(scorer.lists()) + " lists, " + std::to_string(scorer.probes()) +
                 " probed");
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_IvfTop10)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Data for the candidate-recall benchmark: 0 = the clustered data above,
// 1 = i.i.d. normal vectors (random), 2 = trained-like low rank: every
// vector rank-8 (a fixed 8 x 64 basis mixed by normal weights, scaled by a
// lognormal "popularity") plus 5% noise, queries from the same basis.
const Dataset& GetRecallDataset(int kind, size_t rows) {
  if (kind == 0) return GetDataset(rows);
  static std::map<std::pair<int, size_t>, std::unique_ptr<Dataset>>* cache =
      new std::map<std::pair<int, size_t>, std::unique_ptr<Dataset>>();
  auto& slot = (*cache)[{kind, rows}];
  if (slot != nullptr) return *slot;
  std::mt19937 rng(7 + kind);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> popularity(0.0f, 0.5f);
  constexpr size_t kRank = 8;
  std::vector<float> basis(kRank * kDims);
  for (float& v : basis) v = normal(rng);
  auto make = [&](float scale) {
    std::vector<float> v(kDims);
    if (kind == 1) {
      for (float& x : v) x = normal(rng);
      return v;
    }
    float w[kRank];
    for (float& x : w) x = normal(rng);
    for (size_t d = 0; d < kDims; ++d) {
      float s = 0;
      for (size_t r = 0; r < kRank; ++r) s += w[r] * basis[r * kDims + d];
      v[d] = scale * (s + 0.05f * std::sqrt(float{kRank}) * normal(rng));
    }
    return v;
  };
  std::vector<float> dense(rows * kDims);
  for (size_t i = 0; i < rows; ++i) {
    const std::vector<float> v = make(0.1f * popularity(rng));
    std::copy(v.begin(), v.end(), dense.begin() + i * kDims);
  }
  slot = std::make_unique<Dataset>();
  slot->items = ItemMatrix::FromDense(dense, rows, kDims);
  for (size_t q = 0; q < kQueries; ++q) slot->queries.push_back(make(1.0f));
  return *slot;
}

size_t RecallItems() {
  const char* env = std::getenv("AFFINITY_BENCH_RECALL_ITEMS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1000000;
}

// Candidate-stage recall of the int8 scorer: the share of the exact top k
// found among its k * factor candidates, and the share of answers equal to
// the exact scorer's (order and scores), over 256 queries. Args: data kind
// (0 clustered, 1 random, 2 low rank), factor, k. Each iteration is one
// query's candidate stage.
void BM_Int8CandidateRecall(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const size_t factor = static_cast<size_t>(state.range(1));
  const size_t k = static_cast<size_t>(state.range(2));
  const Dataset& data = GetRecallDataset(kind, RecallItems());
  ExactScorer exact(data.items);
  Int8Scorer scorer(data.items, factor);
  ExclusionSet none;
  size_t hits = 0, total = 0, same = 0, answers = 0;
  std::vector<double> us;
  size_t i = 0;
  for (auto _ : state) {
    const std::vector<float>& q = data.queries[i++ % kQueries];
    const auto start = std::chrono::steady_clock::now();
    const std::vector<ScoredIndex> candidates = scorer.Candidates({q, k, &none});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    state.PauseTiming();
    std::set<uint32_t> ids;
    for (const ScoredIndex& c : candidates) ids.insert(c.index);
    const std::vector<ScoredIndex> truth = exact.TopK({q, k, &none}).items;
    for (const ScoredIndex& t : truth) hits += ids.count(t.index);
    total += truth.size();
    const std::vector<ScoredIndex> got = scorer.TopK({q, k, &none}).items;
    bool equal = got.size() == truth.size();
    for (size_t r = 0; equal && r < got.size(); ++r) {
      equal = got[r].index == truth[r].index && got[r].score == truth[r].score;
    }
    same += equal;
    ++answers;
    state.ResumeTiming();
  }
  state.counters["candidate_recall"] = total == 0 ? 0 : double(hits) / total;
  state.counters["exact_answers"] = answers == 0 ? 0 : double(same) / answers;
  state.counters["items"] = static_cast<double>(data.items->rows());
  state.SetLabel(kind == 0 ? "clustered" : kind == 1 ? "random" : "low rank");
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_Int8CandidateRecall)
    ->ArgsProduct({{0, 1, 2}, {1, 2, 4, 8}, {10}})
    ->ArgsProduct({{0, 1, 2}, {1, 2, 4}, {40, 210}})
    ->Iterations(kQueries)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Catalog attributes for every item of a dataset, and a bitmap of the
// items a filter keeping `keep_percent` % of them allows.
struct RuleData {
  std::vector<affinity::v1::CatalogItem> catalog;
  std::shared_ptr<const rules::CompiledRules> rules;
};

const RuleData& GetRuleData(size_t rows) {
  static std::map<size_t, std::unique_ptr<RuleData>>* cache =
      new std::map<size_t, std::unique_ptr<RuleData>>();
  auto& slot = (*cache)[rows];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<RuleData>();
  slot->catalog.resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    affinity::v1::CatalogItem& item = slot->catalog[i];
    item.set_item_id(std::to_string(i));
    item.set_brand("brand" + std::to_string(i % 8));
    item.add_categories("cat" + std::to_string((i / 8) % 10));
    item.set_in_stock(true);
  }
  slot->rules = *rules::ParseRules("bench.textproto", R"pb(
    rule_sets {
      name: "homepage"
      filters { attribute: "category" any_of: [ "cat0", "cat1", "cat2" ] }
      diversity { attribute: "brand" max_per_value: 2 }
      pins { item_id: "5" slot: 3 }
    })pb");
  return *slot;
}

ItemBitmap PercentBitmap(size_t rows, size_t keep_per_mille) {
  ItemBitmap bitmap(rows);
  for (size_t i = 0; i < rows; ++i) {
    if ((i * 7919) % 1000 < keep_per_mille) bitmap.Set(static_cast<uint32_t>(i));
  }
  return bitmap;
}

// The items the homepage rule set's filters allow (30%), as the scan's
// allowed bitmap.
ItemBitmap HomepageAllowed(size_t rows) {
  const RuleData& rd = GetRuleData(rows);
  const rules::CompiledRuleSet& set = *rd.rules->Find("homepage");
  ItemBitmap allowed(rows);
  for (size_t i = 0; i < rows; ++i) {
    if (set.PassesFilters(&rd.catalog[i])) allowed.Set(static_cast<uint32_t>(i));
  }
  return allowed;
}

// Top-10 with the homepage rules: a 30% filter as the allowed bitmap
// inside the scan (over-fetching 210 candidates for diversity), then the
// diversity cap (2 per brand) and one pin. Args: items, scorer (0: exact,
// 1: int8 with candidate factor 4, which keeps 840 candidates).
void BM_RulesHomepageTop10(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const bool int8 = state.range(1) == 1;
  const Dataset& data = GetDataset(rows);
  const RuleData& rd = GetRuleData(rows);
  const rules::CompiledRuleSet& set = *rd.rules->Find("homepage");
  const ItemBitmap allowed = HomepageAllowed(rows);
  std::unique_ptr<Scorer> scorer;
  if (int8) {
    scorer = std::make_unique<Int8Scorer>(data.items, 4);
  } else {
    scorer = std::make_unique<ExactScorer>(data.items);
  }
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ScoringQuery query{data.queries[q++ % kQueries], 210, &none};
    query.allowed = &allowed;
    ScoringResult r = scorer->TopK(query);
    std::vector<rules::RankedItem> items;
    items.reserve(r.items.size());
    for (const ScoredIndex& s : r.items) {
      rules::RankedItem item;
      item.item_id = rd.catalog[s.index].item_id();
      item.index = s.index;
      item.catalog = &rd.catalog[s.index];
      item.score = s.score;
      items.push_back(std::move(item));
    }
    size_t dropped = 0;
    items = rules::ApplyDiversity(set.diversity, 10, std::move(items), &dropped);
    size_t rejected = 0;
    rules::ApplyPins(
        set.pins,
        [&](const std::string& id) -> std::optional<rules::RankedItem> {
          const uint32_t index = static_cast<uint32_t>(std::stoul(id));
          if (!allowed.Contains(index)) return std::nullopt;
          rules::RankedItem item;
          item.item_id = id;
          item.index = index;
          item.catalog = &rd.catalog[index];
          return item;
        },
        false, &items, &rejected);
    benchmark::DoNotOptimize(items);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["allowed_fraction"] = static_cast<double>(allowed.count()) / rows;
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_RulesHomepageTop10)
    ->Args({100000, 0})
    ->Args({1000000, 0})
    ->Args({100000, 1})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Selection alone: one query's exact scores over 1M items (the clustered
// data, computed once outside the timing) pushed in scan order, 960 at a
// time, into a TopKSelector of Arg candidates with the homepage rules' 30%
// allowed bitmap, then taken. Time: one scan's selection.
void BM_TopKSelectorScan(benchmark::State& state) {
  const size_t k = static_cast<size_t>(state.range(0));
  constexpr size_t kRows = 1000000;
  const Dataset& data = GetDataset(kRows);
  const ItemMatrix& m = *data.items;
  std::vector<std::vector<float>> scores(8, std::vector<float>(kRows));
  for (size_t q = 0; q < scores.size(); ++q) {
    const std::vector<float> padded = m.PadQuery(data.queries[q]);
    DotRows(m.row(0), kRows, m.stride(), padded.data(), scores[q].data());
  }
  const ItemBitmap allowed = HomepageAllowed(kRows);
  ExclusionSet none;
  size_t q = 0;
  for (auto _ : state) {
    const std::vector<float>& s = scores[q++ % scores.size()];
    TopKSelector selector(k, &none, &allowed);
    constexpr size_t kChunk = 960;
    for (size_t first = 0; first < kRows; first += kChunk) {
      selector.PushBlock(static_cast<uint32_t>(first), s.data() + first,
                         std::min(kChunk, kRows - first));
    }
    benchmark::DoNotOptimize(selector.Take());
  }
}
BENCHMARK(BM_TopKSelectorScan)->Arg(20)->Arg(420)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The int8 scan as a busy server runs it for the homepage rules: a batch of
// 32 queries, each fetching 210 with the 30% allowed bitmap and the default
// candidate factor (2: 420 candidates each). Args: items, scan threads (a
// ScanPool of that many; 1: none), sampled threshold (1) or not (0).
// Time: the batch; qps: queries.
void BM_Int8HomepageBatch32(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const bool sample_first = state.range(2) != 0;
  const Dataset& data = GetDataset(rows);
  const ItemBitmap allowed = HomepageAllowed(rows);
  Int8Scorer scorer(data.items, 2, BestInt8Isa(),
                    threads > 1 ? std::make_shared<ScanPool>(threads) : nullptr,
                    Int8Scorer::kDefaultMinRowsPerPart, sample_first);
  ExclusionSet none;
  size_t q = 0;
  for (auto _ : state) {
    std::vector<ScoringQuery> batch;
    for (int i = 0; i < 32; ++i) {
      batch.push_back({data.queries[q++ % kQueries], 210, &none});
      batch.back().allowed = &allowed;
    }
    auto r = scorer.TopKBatch(batch);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(Int8IsaName(scorer.isa()));
  state.counters["rescans"] = static_cast<double>(scorer.sample_misses());
  state.counters["qps"] = benchmark::Counter(static_cast<double>(state.iterations() * 32),
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8HomepageBatch32)
    ->Args({1000000, 1, 0})
    ->Args({1000000, 1, 1})
    ->Args({1000000, 2, 0})
    ->Args({1000000, 2, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// One scan pass as the server runs it for the homepage rules at 1M items:
// the rule set's prepared copy of its allowed rows (PrepareAllowed, as the
// loaded model holds it), 2 scan threads, the sampled threshold, Arg
// queries each fetching 40 as the rules' first fetch does for k = 10 with
// diversity (80 candidates; rule_pipeline.h). Second Arg 1: a thread spins
// beside the pass meanwhile, as a request thread or a neighbour takes a
// core of the two. Time: the pass; a pass that costs as much for 16
// queries as for 1 is bound by reading the copy, one that grows with them
// by the per-query compare and selection.
void BM_Int8HomepagePass(benchmark::State& state) {
  constexpr size_t kRows = 1000000;
  const size_t nq = static_cast<size_t>(state.range(0));
  const bool busy = state.range(1) != 0;
  const Dataset& data = GetDataset(kRows);
  const ItemBitmap allowed = HomepageAllowed(kRows);
  Int8Scorer scorer(data.items, 2, BestInt8Isa(), std::make_shared<ScanPool>(2));
  const std::shared_ptr<const AllowedScan> copy =
      scorer.PrepareAllowed(allowed, std::numeric_limits<size_t>::max());
  if (copy == nullptr) {
    state.SkipWithError("no prepared copy");
    return;
  }
  ExclusionSet none;
  std::atomic<bool> stop{false};
  std::thread spinner;
  if (busy) {
    spinner = std::thread([&stop] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  }
  size_t q = 0;
  for (auto _ : state) {
    std::vector<ScoringQuery> batch;
    for (size_t i = 0; i < nq; ++i) {
      batch.push_back({data.queries[q++ % kQueries], 40, &none});
      batch.back().allowed = &allowed;
      batch.back().allowed_scan = copy.get();
    }
    auto r = scorer.TopKBatch(batch);
    benchmark::DoNotOptimize(r);
  }
  if (busy) {
    stop = true;
    spinner.join();
  }
  state.SetLabel(Int8IsaName(scorer.isa()));
  state.counters["rescans_per_query"] =
      static_cast<double>(scorer.sample_misses()) / static_cast<double>(state.iterations() * nq);
  state.counters["qps"] = benchmark::Counter(static_cast<double>(state.iterations() * nq),
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8HomepagePass)
    ->ArgsProduct({{1, 2, 4, 8, 16, 32}, {0}})
    ->Args({4, 1})
    ->Args({8, 1})
    ->Args({16, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Exact top-10 restricted to an allowed bitmap keeping Arg per mille of
// 1M items (1000 = no filter, the plain scan): 10 = 1% uses the gather scan.
void BM_RulesFilteredTop10(benchmark::State& state) {
  const size_t rows = 1000000;
  const Dataset& data = GetDataset(rows);
  const size_t per_mille = static_cast<size_t>(state.range(0));
  const ItemBitmap allowed = PercentBitmap(rows, per_mille);
  ExactScorer scorer(data.items);
  ExclusionSet none;
  std::vector<double> us;
  size_t q = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ScoringQuery query{data.queries[q++ % kQueries], 10, &none};
    if (per_mille < 1000) query.allowed = &allowed;
    ScoringResult r = scorer.TopK(query);
    benchmark::DoNotOptimize(r);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["allowed"] = static_cast<double>(per_mille < 1000 ? allowed.count() : rows);
  ReportLatencies(state, std::move(us), 1);
}
BENCHMARK(BM_RulesFilteredTop10)->Arg(1000)->Arg(300)->Arg(10)->Unit(benchmark::kMicrosecond)->UseRealTime();

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
