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
#include "server/scoring/hnsw_index_io.h"
#include "server/scoring/ivf_index_io.h"

namespace affinity::server {

std::optional<uint32_t> LoadedModel::FindItem(absl::string_view item_id) const {
  absl::StatusOr<uint32_t> index = reader->ItemIndex(item_id);
  if (!index.ok()) return std::nullopt;
  return *index;
}

std::vector<float> LoadedModel::UnitRow(uint32_t index) const {
  const float* row = items->row(index);
  const float scale = (*inverse_norms)[index];
  std::vector<float> out(items->dims());
  for (size_t d = 0; d < out.size(); ++d) out[d] = row[d] * scale;
  return out;
}

float LoadedModel::Cosine(uint32_t a, uint32_t b) const {
  const float* ra = items->row(a);
  const float* rb = items->row(b);
  const float sa = (*inverse_norms)[a];
  const float sb = (*inverse_norms)[b];
  float s = 0;
  for (size_t d = 0; d < items->dims(); ++d) {
    const float ua = ra[d] * sa;
    const float ub = rb[d] * sb;
    s += ua * ub;
  }
  return s;
}

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Whether the scorer kind keeps an index with the version (HNSW's graph,
// IVF's lists).
bool HasStoredIndex(ScorerKind kind) {
  return kind == ScorerKind::kHnsw || kind == ScorerKind::kIvf;
}

// The index of the configured kind stored with the version, when it
// belongs to `items`.
absl::StatusOr<std::unique_ptr<Scorer>> LoadStoredIndex(const storage::ModelVersionReader& reader,
                                                        std::shared_ptr<const ItemMatrix> items,
                                                        const std::string& vectors_sha256,
                                                        const ScorerOptions& options) {
  if (options.kind == ScorerKind::kHnsw) {
    auto hnsw = LoadHnswIndex(reader, std::move(items), vectors_sha256, options);
    if (!hnsw.ok()) return hnsw.status();
    return std::unique_ptr<Scorer>(*std::move(hnsw));
  }
  auto ivf = LoadIvfIndex(reader, std::move(items), vectors_sha256, options);
  if (!ivf.ok()) return ivf.status();
  return std::unique_ptr<Scorer>(*std::move(ivf));
}

// The configured scorer; for HNSW and IVF the index stored with the
// version when it belongs to `items`, else one built here (the reason in
// index_note).
absl::Status MakeModelScorer(const storage::ModelVersionReader& reader,
                             std::shared_ptr<const ItemMatrix> items,
                             const ScorerOptions& options, LoadedModel* model) {
  const auto start = std::chrono::steady_clock::now();
  if (HasStoredIndex(options.kind)) {
    auto stored = LoadStoredIndex(reader, items, model->vectors_sha256, options);
    if (stored.ok()) {
      model->scorer = *std::move(stored);
      model->index_source = "loaded";
      model->index_seconds = SecondsSince(start);
      return absl::OkStatus();
    }
    if (absl::IsCancelled(stored.status())) return stored.status();
    model->index_note = absl::IsNotFound(stored.status()) ? kNoStoredIndex
                                                          : stored.status().ToString();
  }
  auto scorer = MakeScorer(std::move(items), options);
  if (!scorer.ok()) return scorer.status();
  model->scorer = *std::move(scorer);
  if (HasStoredIndex(options.kind)) {
    model->index_source = "built";
    model->index_seconds = SecondsSince(start);
  }
  return absl::OkStatus();
}

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
  // Read straight into the aligned matrix (no dense copy beside it), then
  // spread the rows to their padded stride.
  auto matrix = std::make_shared<ItemMatrix>(ids.size(), static_cast<size_t>(dims));
  if (absl::Status s = reader->ReadItemFactors(
          absl::MakeSpan(matrix->mutable_data(), ids.size() * static_cast<size_t>(dims)));
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(where, "reading item factors: ", s.message()));
  }
  if (HasStoredIndex(options.kind)) {
    // A stored index is checked against the vectors it was built from.
    model->vectors_sha256 = storage::ItemVectorsSha256(
        absl::MakeConstSpan(matrix->data(), ids.size() * static_cast<size_t>(dims)));
  }
  matrix->ExpandPackedRows();
  std::shared_ptr<const ItemMatrix> items = std::move(matrix);
  model->items = items;
  model->inverse_norms = std::make_shared<const std::vector<float>>(items->InverseNorms());

  if (absl::Status s = MakeModelScorer(*reader, items, options, model.get()); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(where, s.message()));
  }
  ExactScorerOptions similar;
  similar.pool = options.scan_pool;
  similar.row_scales = model->inverse_norms;
  model->similar_scorer = std::make_unique<ExactScorer>(items, std::move(similar));

  model->explicit_model = model->metadata.algorithm() == "explicit_als";
  if (!model->explicit_model) {
    model->gram = ItemGram(*items);
    auto params = FoldInParamsFromMetadata(model->metadata);
    if (params.ok()) model->fold_in = *params;
  }
  model->reader = std::move(reader);
  model->load_seconds = SecondsSince(start);
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
