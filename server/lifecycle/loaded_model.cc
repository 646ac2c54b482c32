#include "server/lifecycle/loaded_model.h"

#include <chrono>
#include <limits>
#include <new>
#include <stdexcept>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/lifecycle/load_budget.h"
#include "server/scoring/exact_scorer.h"

namespace affinity::server {

std::optional<uint32_t> LoadedModel::FindItem(absl::string_view item_id) const {
  auto it = item_index.find(item_id);
  if (it == item_index.end()) return std::nullopt;
  return it->second;
}

namespace {

absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModelOrThrow(
    std::unique_ptr<storage::ModelVersionReader> reader, const ScorerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto model = std::make_shared<LoadedModel>();
  model->metadata = reader->metadata();
  model->version = model->metadata.version();
  const std::string where = absl::StrCat("model version ", model->version, ": ");
  const int dims = model->metadata.dims();
  const std::vector<std::string>& ids = reader->item_ids();
  if (dims <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, "metadata dims must be > 0, got ", dims));
  }
  if (ids.size() != static_cast<size_t>(model->metadata.items())) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "metadata says ", model->metadata.items(), " items, store has ", ids.size()));
  }
  if (ids.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::FailedPreconditionError(absl::StrCat(where, "too many items"));
  }
  if (absl::Status fits = CheckLoadFits(model->version, ids.size(), static_cast<uint64_t>(dims),
                                        options);
      !fits.ok()) {
    return fits;
  }
  std::vector<float> dense(ids.size() * static_cast<size_t>(dims));
  if (absl::Status s = reader->ReadItemFactors(absl::MakeSpan(dense)); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(where, "reading item factors: ", s.message()));
  }
  std::shared_ptr<const ItemMatrix> items =
      ItemMatrix::FromDense(dense, ids.size(), static_cast<size_t>(dims));
  dense = std::vector<float>();
  model->items = items;
  model->normalized_items = items->Normalized();
  model->item_index.reserve(ids.size());
  for (uint32_t i = 0; i < ids.size(); ++i) model->item_index.emplace(ids[i], i);

  auto scorer = MakeScorer(items, options);
  if (!scorer.ok()) {
    return absl::Status(scorer.status().code(),
                        absl::StrCat(where, scorer.status().message()));
  }
  model->scorer = std::move(*scorer);
  model->similar_scorer = std::make_unique<ExactScorer>(
      model->normalized_items, ExactScorerOptions{options.scan_pool});

  model->explicit_model = model->metadata.algorithm() == "explicit_als";
  if (!model->explicit_model) {
    model->gram = ItemGram(*items);
    auto params = FoldInParamsFromMetadata(model->metadata);
    if (params.ok()) model->fold_in = *params;
  }
  model->reader = std::move(reader);
  model->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::shared_ptr<const LoadedModel>(std::move(model));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LoadedModel>> LoadModel(
    std::unique_ptr<storage::ModelVersionReader> reader, const ScorerOptions& options) {
  const uint64_t version = reader->metadata().version();
  try {
    return LoadModelOrThrow(std::move(reader), options);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("model version ", version, ": out of memory while loading"));
  } catch (const std::length_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("model version ", version, ": too large to load (", e.what(), ")"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("model version ", version, ": loading failed: ", e.what()));
  }
}

}  // namespace affinity::server
