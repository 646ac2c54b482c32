#include "server/lifecycle/load_budget.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {
namespace {

// Per item, beside its vectors: its id in the index map (string and slot).
constexpr uint64_t kIdBytesPerItem = 64;
// Per item in an HNSW graph, beside its vector: 2M level-0 links and about
// M more on upper levels (4 bytes each), label, level, lock and lookup slot.
constexpr uint64_t kHnswBytesPerLink = 4;
constexpr uint64_t kHnswLinksPerM = 3;
constexpr uint64_t kHnswFixedBytesPerItem = 112;

}  // namespace

absl::uint128 EstimateLoadBytes(uint64_t items, uint64_t dims, const ScorerOptions& options) {
  const absl::uint128 floats = absl::uint128(dims) * 4;
  const absl::uint128 row = absl::uint128(ItemMatrix::StrideFor(dims)) * 4;
  // The item matrix (read straight into it) and its inverse norm.
  absl::uint128 per_item = row + 4 + kIdBytesPerItem;
  absl::uint128 fixed = 0;
  if (options.kind == ScorerKind::kInt8) {
    // The int8 copy (4-dim groups) and its per-row scale; the rule sets' own
    // copies, as much as their budget allows (by default half as much).
    const absl::uint128 int8_row = absl::uint128((dims + 3) / 4 * 4) + 4;
    per_item += int8_row;
    if (options.int8_allowed_copy_bytes < 0) {
      per_item += int8_row / 2;
    } else {
      fixed += static_cast<uint64_t>(options.int8_allowed_copy_bytes);
    }
  }
  if (options.kind == ScorerKind::kIvf) {
    // The int8 copy grouped by list (padding to whole blocks: under a block
    // per list, about sqrt(items) lists), its scale and item per row, and
    // the k-means assignment while the lists are built.
    per_item += absl::uint128((dims + 3) / 4 * 4) + 4 + 4 + 4 + 1;
  }
  if (options.kind == ScorerKind::kHnsw) {
    per_item += floats + absl::uint128(options.hnsw_m) * kHnswLinksPerM * kHnswBytesPerLink +
                kHnswFixedBytesPerItem;
  }
  // Y^T Y in doubles.
  const absl::uint128 gram = absl::uint128(dims) * dims * 8;
  return absl::uint128(items) * per_item + gram + fixed;
}

std::optional<uint64_t> AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string name;
    uint64_t kib = 0;
    if (fields >> name >> kib && name == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

absl::Status CheckLoadFits(uint64_t version, uint64_t items, uint64_t dims,
                           const ScorerOptions& options) {
  std::optional<uint64_t> limit;
  std::string what;
  if (options.max_load_bytes > 0) {
    limit = options.max_load_bytes;
    what = "the limit";
  } else {
    limit = AvailableMemoryBytes();
    what = "the memory available";
  }
  if (!limit.has_value()) return absl::OkStatus();
  const absl::uint128 needed = EstimateLoadBytes(items, dims, options);
  if (needed <= *limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "model version ", version, ": ", items, " items of ", dims, " dims need about ",
      absl::Uint128High64(needed) == 0 ? absl::StrCat(absl::Uint128Low64(needed))
                                       : std::string("more than 2^64"),
      " bytes to load, more than ", what, " (", *limit, " bytes)"));
}

}  // namespace affinity::server
