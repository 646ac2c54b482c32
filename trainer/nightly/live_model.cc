#include "trainer/nightly/live_model.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace affinity {
namespace {

constexpr float kUnservableItem = -1e30f;

absl::flat_hash_map<absl::string_view, uint32_t> IndexOf(const std::vector<std::string>& ids) {
  absl::flat_hash_map<absl::string_view, uint32_t> index;
  index.reserve(ids.size());
  for (uint32_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
  return index;
}

}  // namespace

absl::StatusOr<AlignedLiveModel> LoadAlignedLiveModel(
    const storage::ModelVersionReader& reader, const std::vector<std::string>& user_ids,
    const std::vector<std::string>& item_ids, bool with_seen) {
  AlignedLiveModel out;
  out.metadata = reader.metadata();
  out.version = out.metadata.version();
  const int64_t dims = out.metadata.dims();
  const int64_t live_items = static_cast<int64_t>(reader.item_ids().size());
  if (dims < 1) {
    return absl::DataLossError(absl::StrCat("version ", out.version, " has ", dims, " dims"));
  }

  std::vector<float> live_factors(static_cast<size_t>(live_items * dims));
  if (absl::Status s = reader.ReadItemFactors(absl::MakeSpan(live_factors)); !s.ok()) return s;
  const auto item_index = IndexOf(item_ids);
  // live item index -> data item index (or -1).
  std::vector<int64_t> to_data(live_items, -1);
  out.items = FactorMatrix::Zero(static_cast<int64_t>(item_ids.size()), dims + 1);
  out.items.col(dims).setConstant(kUnservableItem);
  for (int64_t i = 0; i < live_items; ++i) {
    auto it = item_index.find(reader.item_ids()[i]);
    if (it == item_index.end()) continue;
    to_data[i] = it->second;
    out.items.row(it->second).head(dims) =
        Eigen::Map<const FactorVector>(live_factors.data() + i * dims, dims);
    out.items(it->second, dims) = 0;
    ++out.items_known;
  }

  const auto user_index = IndexOf(user_ids);
  const int64_t rows = static_cast<int64_t>(user_ids.size());
  out.users = FactorMatrix::Zero(rows, dims + 1);
  out.known_users.assign(rows, false);
  std::vector<std::vector<uint32_t>> seen(with_seen ? rows : 0);
  absl::Status s = reader.ForEachUser(
      [&](absl::string_view user_id, const storage::UserRecord& record) -> absl::Status {
        auto it = user_index.find(user_id);
        if (it == user_index.end()) return absl::OkStatus();
        if (static_cast<int64_t>(record.factors.size()) != dims) {
          return absl::DataLossError(absl::StrCat("version ", out.version, ": user ", user_id,
                                                  " has ", record.factors.size(),
                                                  " factors, expected ", dims));
        }
        const uint32_t u = it->second;
        out.users.row(u).head(dims) = Eigen::Map<const FactorVector>(record.factors.data(), dims);
        out.users(u, dims) = 1.0f;
        out.known_users[u] = true;
        ++out.users_known;
        if (with_seen) {
          for (uint32_t live_item : record.seen) {
            if (live_item < to_data.size() && to_data[live_item] >= 0) {
              seen[u].push_back(static_cast<uint32_t>(to_data[live_item]));
            }
          }
          std::sort(seen[u].begin(), seen[u].end());
          seen[u].erase(std::unique(seen[u].begin(), seen[u].end()), seen[u].end());
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (with_seen) {
    std::vector<int64_t> indptr(1, 0);
    std::vector<uint32_t> indices;
    for (const auto& row : seen) {
      indices.insert(indices.end(), row.begin(), row.end());
      indptr.push_back(static_cast<int64_t>(indices.size()));
    }
    std::vector<float> values(indices.size(), 1.0f);
    out.seen = CsrMatrix(rows, static_cast<int64_t>(item_ids.size()), std::move(indptr),
                         std::move(indices), std::move(values));
  }
  return out;
}

}  // namespace affinity
