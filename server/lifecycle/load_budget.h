// The memory a model load needs, checked before anything is allocated for
// it: an estimate from the item count and dims (item matrix, its per-row
// inverse norms, id map, Y^T Y, and the int8 copy with the rule sets'
// copies' budget, or the HNSW graph, when that scorer is configured)
// compared with ScorerOptions::max_load_bytes, or with the memory the
// system has available when that is 0. Pure functions apart from reading
// /proc/meminfo; thread-safe; nothing throws.
#ifndef AFFINITY_SERVER_LIFECYCLE_LOAD_BUDGET_H_
#define AFFINITY_SERVER_LIFECYCLE_LOAD_BUDGET_H_

#include <cstdint>
#include <optional>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "server/scoring/scorer.h"

namespace affinity::server {

// Bytes a load of `items` x `dims` is expected to need at its peak (128
// bits: no product overflows).
absl::uint128 EstimateLoadBytes(uint64_t items, uint64_t dims, const ScorerOptions& options);

// MemAvailable of /proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<uint64_t> AvailableMemoryBytes();

// OK when the estimate fits the bound (or no bound is known: max_load_bytes
// 0 and no MemAvailable); else ResourceExhausted naming the version, the
// estimate and the bound.
absl::Status CheckLoadFits(uint64_t version, uint64_t items, uint64_t dims,
                           const ScorerOptions& options);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_LOAD_BUDGET_H_
