// ParallelFor runs fn over [0, n) split into fixed chunks on `threads`
// std::threads. Chunk boundaries depend only on (n, chunk), never on the
// thread count or on timing, so a computation whose per-chunk work is
// independent of other chunks gives identical results however it is
// scheduled. fn receives (begin, end, worker) with worker in [0, threads),
// so callers can index per-worker scratch space. Returns after every chunk
// has run.
#ifndef AFFINITY_TRAINER_ALS_PARALLEL_FOR_H_
#define AFFINITY_TRAINER_ALS_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace affinity {

enum class Schedule {
  kStatic,   // worker w runs chunks w, w + threads, w + 2 * threads, ...
  kDynamic,  // workers take the next unclaimed chunk (balances skewed rows)
};

// Number of chunks ParallelFor uses for (n, chunk).
inline int64_t NumChunks(int64_t n, int64_t chunk) {
  return n <= 0 ? 0 : (n + chunk - 1) / chunk;
}

template <typename Fn>
void ParallelFor(int64_t n, int threads, int64_t chunk, Schedule schedule,
                 const Fn& fn) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(chunk, 1);
  const int64_t num_chunks = NumChunks(n, chunk);
  const int workers =
      static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, num_chunks)));
  std::atomic<int64_t> next{0};
  auto run = [&](int worker) {
    if (schedule == Schedule::kStatic) {
      for (int64_t c = worker; c < num_chunks; c += workers) {
        fn(c * chunk, std::min(n, (c + 1) * chunk), worker);
      }
    } else {
      for (int64_t c = next.fetch_add(1, std::memory_order_relaxed);
           c < num_chunks; c = next.fetch_add(1, std::memory_order_relaxed)) {
        fn(c * chunk, std::min(n, (c + 1) * chunk), worker);
      }
    }
  };
  if (workers == 1) {
    run(0);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (std::thread& t : pool) t.join();
}

// Convenience form with dynamic chunking.
template <typename Fn>
void ParallelFor(int64_t n, int threads, int64_t chunk, const Fn& fn) {
  ParallelFor(n, threads, chunk, Schedule::kDynamic, fn);
}

// Sums fn(begin, end) over the chunks of [0, n). Chunk results are added in
// chunk order, so the total is bitwise reproducible for any thread count.
template <typename Fn>
double ParallelSum(int64_t n, int threads, int64_t chunk, const Fn& fn) {
  chunk = std::max<int64_t>(chunk, 1);
  std::vector<double> partial(NumChunks(n, chunk), 0.0);
  ParallelFor(n, threads, chunk, [&](int64_t begin, int64_t end, int) {
    partial[begin / chunk] = fn(begin, end);
  });
  double total = 0.0;
  for (double v : partial) total += v;
  return total;
}

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ALS_PARALLEL_FOR_H_
