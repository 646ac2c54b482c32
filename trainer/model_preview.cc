#include "trainer/model_preview.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include <Eigen/Core>

#include "absl/strings/str_format.h"
#include "storage/catalog_store.h"

namespace affinity {
namespace {

using RowMajorMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Indices of the k best scores among items not in `seen` (sorted), best
// first, ties to the lower index.
std::vector<uint32_t> TopUnseen(const Eigen::VectorXf& scores,
                                const std::vector<uint32_t>& seen, int k) {
  std::vector<uint32_t> candidates;
  candidates.reserve(scores.size());
  for (uint32_t i = 0; i < scores.size(); ++i) {
    if (!std::binary_search(seen.begin(), seen.end(), i)) candidates.push_back(i);
  }
  const size_t n = std::min<size_t>(k, candidates.size());
  auto better = [&](uint32_t a, uint32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  std::partial_sort(candidates.begin(), candidates.begin() + n, candidates.end(), better);
  candidates.resize(n);
  return candidates;
}

}  // namespace

absl::Status PrintTopK(const storage::ModelVersionReader& model,
                       const std::string& db, const std::vector<std::string>& users,
                       int k, std::ostream& out) {
  const auto& meta = model.metadata();
  RowMajorMatrix items(meta.items(), meta.dims());
  if (absl::Status s = model.ReadItemFactors(
          absl::MakeSpan(items.data(), static_cast<size_t>(items.size())));
      !s.ok()) {
    return s;
  }
  // Titles are a nicety: without a catalog, ids alone are printed (and no
  // empty catalog is created: a follower of a missing store would be).
  absl::StatusOr<std::unique_ptr<storage::CatalogStore>> catalog =
      absl::NotFoundError("no catalog");
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(db) / "catalog" / "CURRENT", ec)) {
    catalog = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kFollower);
  }
  for (const std::string& user : users) {
    auto record = model.GetUser(user);
    if (absl::IsNotFound(record.status())) {
      out << "user " << user << ": not in this model version\n";
      continue;
    }
    if (!record.ok()) return record.status();
    const Eigen::Map<const Eigen::VectorXf> x(record->factors.data(), meta.dims());
    const Eigen::VectorXf scores = items * x;
    out << absl::StrFormat("top %d for user %s (%d items seen):\n", k, user,
                           record->seen.size());
    int rank = 0;
    for (uint32_t i : TopUnseen(scores, record->seen, k)) {
      const std::string& id = model.item_ids()[i];
      std::string title;
      if (catalog.ok()) {
        auto item = (*catalog)->Get(id);
        if (item.ok()) title = item->title();
      }
      out << absl::StrFormat("  %2d. %-8s %7.4f  %s\n", ++rank, id, scores[i], title);
    }
  }
  return absl::OkStatus();
}

}  // namespace affinity
