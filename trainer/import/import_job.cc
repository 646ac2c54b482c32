#include "trainer/import/import_job.h"

#include <cmath>
#include <ctime>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/eval/popularity_eval.h"

namespace affinity {
namespace {

std::string WeightTransformName(WeightTransform t) {
  switch (t) {
    case WeightTransform::kRaw: return "raw";
    case WeightTransform::kLog1p: return "log1p";
    case WeightTransform::kBinary: return "binary";
  }
  return "raw";
}

absl::Status CheckParameter(absl::string_view name, float value) {
  if (std::isfinite(value) && value >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": got ", value, ", expected a finite value >= 0"));
}

absl::flat_hash_map<absl::string_view, uint32_t> IndexOf(
    const std::vector<std::string>& ids) {
  absl::flat_hash_map<absl::string_view, uint32_t> index;
  index.reserve(ids.size());
  for (uint32_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
  return index;
}

// Re-indexes the interactions by the tables' rows; entries of users or
// items the tables lack are counted and dropped.
absl::Status MapInteractions(const Interactions& data, ImportedModel* model) {
  const auto user_index = IndexOf(model->users.ids);
  const auto item_index = IndexOf(model->items.ids);
  std::vector<int64_t> item_of(data.item_ids.size(), -1);
  for (size_t c = 0; c < data.item_ids.size(); ++c) {
    auto it = item_index.find(data.item_ids[c]);
    if (it == item_index.end()) {
      ++model->unknown_items;
    } else {
      item_of[c] = it->second;
    }
  }
  std::vector<uint32_t> rows, cols;
  std::vector<float> values;
  rows.reserve(data.matrix.nnz());
  cols.reserve(data.matrix.nnz());
  values.reserve(data.matrix.nnz());
  for (int64_t u = 0; u < data.matrix.rows(); ++u) {
    const CsrMatrix::Row row = data.matrix.row(u);
    auto it = user_index.find(data.user_ids[u]);
    if (it == user_index.end()) {
      ++model->unknown_users;
      model->entries_dropped += static_cast<int64_t>(row.size());
      continue;
    }
    for (size_t k = 0; k < row.size(); ++k) {
      const int64_t item = item_of[row.indices[k]];
      if (item < 0) {
        ++model->entries_dropped;
        continue;
      }
      rows.push_back(it->second);
      cols.push_back(static_cast<uint32_t>(item));
      values.push_back(row.values[k]);
    }
  }
  model->interaction_entries = data.matrix.nnz();
  absl::StatusOr<CsrMatrix> seen =
      CsrMatrix::FromTriplets(model->users.factors.rows(), model->items.factors.rows(),
                              rows, cols, values);
  if (!seen.ok()) return seen.status();
  model->seen = *std::move(seen);
  return absl::OkStatus();
}

}  // namespace

TrainedModel ImportedModel::AsTrainedModel() const {
  TrainedModel model;
  model.user_ids = &users.ids;
  model.item_ids = &items.ids;
  model.users = &users.factors;
  model.items = &items.factors;
  model.seen = {&seen};
  model.popular_items = popular_items;
  return model;
}

absl::StatusOr<ImportedModel> AssembleSparkModel(const SparkImportConfig& config,
                                                 std::ostream& log) {
  if (absl::Status s = CheckParameter("alpha", config.alpha); !s.ok()) return s;
  if (absl::Status s = CheckParameter("regularization", config.regularization); !s.ok()) {
    return s;
  }
  ImportedModel model;
  absl::Time start = absl::Now();
  absl::StatusOr<FactorTable> users = ReadSparkFactors(config.user_factors);
  if (!users.ok()) return users.status();
  model.users = *std::move(users);
  log << absl::StrFormat("user factors: %d users x %d dims from %d files in %s (%.1f s)\n",
                         model.users.ids.size(), model.users.factors.cols(),
                         model.users.files.size(), config.user_factors,
                         absl::ToDoubleSeconds(absl::Now() - start));
  start = absl::Now();
  absl::StatusOr<FactorTable> items = ReadSparkFactors(config.item_factors);
  if (!items.ok()) return items.status();
  model.items = *std::move(items);
  log << absl::StrFormat("item factors: %d items x %d dims from %d files in %s (%.1f s)\n",
                         model.items.ids.size(), model.items.factors.cols(),
                         model.items.files.size(), config.item_factors,
                         absl::ToDoubleSeconds(absl::Now() - start));
  const int64_t dims = model.users.factors.cols();
  if (model.items.factors.cols() != dims) {
    return absl::InvalidArgumentError(absl::StrCat(
        "item factors (", config.item_factors, ") have ", model.items.factors.cols(),
        " dims, expected ", dims, " like the user factors (", config.user_factors, ")"));
  }

  affinity::v1::ModelMetadata& metadata = model.metadata;
  if (config.interactions.empty()) {
    model.seen = CsrMatrix(model.users.factors.rows(), model.items.factors.rows(),
                           std::vector<int64_t>(model.users.factors.rows() + 1, 0), {}, {});
    model.popular_items.resize(model.items.ids.size());
    std::iota(model.popular_items.begin(), model.popular_items.end(), 0u);
    log << "no interactions: users have no seen items, popularity is the item file order\n";
  } else {
    absl::StatusOr<Interactions> data = ReadInteractions(config.interactions, config.reader);
    if (!data.ok()) return data.status();
    if (absl::Status s = MapInteractions(*data, &model); !s.ok()) return s;
    model.popular_items = eval::PopularityOrder(model.seen);
    log << absl::StrFormat(
        "interactions: %d entries from %s, %d kept; %d dropped (%d users not in the user "
        "factors, %d items not in the item factors)\n",
        model.interaction_entries, config.interactions, model.seen.nnz(),
        model.entries_dropped, model.unknown_users, model.unknown_items);
    if (data->stats.rows_skipped > 0) {
      log << absl::StrFormat("skipped %d malformed interaction rows\n",
                             data->stats.rows_skipped);
    }
    metadata.set_input_path(config.interactions);
    metadata.set_input_crc32(data->stats.crc32);
    metadata.set_input_bytes(data->stats.bytes_read);
  }

  metadata.set_algorithm("spark_als");
  metadata.set_dims(static_cast<int32_t>(dims));
  metadata.set_factors(static_cast<int32_t>(dims));
  metadata.set_users(model.users.factors.rows());
  metadata.set_items(model.items.factors.rows());
  metadata.set_nnz(model.seen.nnz());
  metadata.set_alpha(config.alpha);
  metadata.set_regularization(config.regularization);
  metadata.set_weight_transform(WeightTransformName(config.reader.weight_transform));
  metadata.set_created_at_unix(std::time(nullptr));
  auto& parameters = *metadata.mutable_parameters();
  parameters["user_factors"] = config.user_factors;
  parameters["item_factors"] = config.item_factors;
  if (!config.interactions.empty()) parameters["interactions"] = config.interactions;
  parameters["alpha"] = absl::StrCat(config.alpha);
  parameters["regularization"] = absl::StrCat(config.regularization);
  for (const auto& [name, value] : config.parameters) parameters[name] = value;
  return model;
}

absl::StatusOr<uint64_t> PublishImportedModel(const std::string& db,
                                              const ImportedModel& model) {
  return PublishModel(db, model.AsTrainedModel(), model.metadata);
}

}  // namespace affinity
