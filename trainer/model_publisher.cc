#include "trainer/model_publisher.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/scoring/index_to_store.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

// Sorted union of the user's row in every matrix of `seen`.
void SeenItems(const std::vector<const CsrMatrix*>& seen, int64_t user,
               std::vector<uint32_t>* out) {
  out->clear();
  for (const CsrMatrix* m : seen) {
    auto row = m->row(user);
    out->insert(out->end(), row.indices.begin(), row.indices.end());
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

absl::Status CheckShapes(const TrainedModel& m) {
  if (!m.user_ids || !m.item_ids || !m.users || !m.items) {
    return absl::InvalidArgumentError("PublishModel: incomplete TrainedModel");
  }
  if (m.users->rows() != static_cast<int64_t>(m.user_ids->size()) ||
      m.items->rows() != static_cast<int64_t>(m.item_ids->size()) ||
      m.users->cols() != m.items->cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PublishModel: shapes disagree: ", m.user_ids->size(), " user ids, ",
        m.users->rows(), "x", m.users->cols(), " user factors, ",
        m.item_ids->size(), " item ids, ", m.items->rows(), "x",
        m.items->cols(), " item factors"));
  }
  for (const CsrMatrix* s : m.seen) {
    if (s->rows() != m.users->rows() || s->cols() != m.items->rows()) {
      return absl::InvalidArgumentError("PublishModel: seen matrix shape");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const server::ItemMatrix>> CopyItems(
    const FactorMatrix& factors, const std::string& kind) {
  const size_t rows = static_cast<size_t>(factors.rows());
  const size_t dims = static_cast<size_t>(factors.cols());
  try {
    return std::shared_ptr<const server::ItemMatrix>(server::ItemMatrix::FromDense(
        absl::Span<const float>(factors.data(), rows * dims), rows, dims));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("--build_index=", kind,
                                                     ": out of memory copying ", rows,
                                                     " item vectors"));
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Stored floats are the factors as they are (row-major float32).
std::string FactorsSha256(const FactorMatrix& factors) {
  return storage::ItemVectorsSha256(absl::Span<const float>(
      factors.data(), static_cast<size_t>(factors.rows()) * static_cast<size_t>(factors.cols())));
}

// The item vectors' index of options.build_index ("hnsw" or "ivf", with
// the server's default parameters), built before the store is opened. Its
// build_seconds count the copy of the factors into the server's layout.
absl::StatusOr<server::IndexToStore> BuildIndex(const FactorMatrix& factors,
                                                const PublishOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& kind = options.build_index;
  auto items = CopyItems(factors, kind);
  if (!items.ok()) return items.status();
  server::ScorerOptions scorer_options;
  scorer_options.kind = kind == "hnsw" ? server::ScorerKind::kHnsw : server::ScorerKind::kIvf;
  scorer_options.build_threads =
      options.index_threads > 0 ? options.index_threads
                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto built = server::BuildIndexToStore(*std::move(items), FactorsSha256(factors), scorer_options);
  if (!built.ok()) {
    return absl::Status(built.status().code(),
                        absl::StrCat("--build_index=", kind, ": ", built.status().message()));
  }
  built->header.set_build_seconds(SecondsSince(start));
  return built;
}

}  // namespace

absl::Status CheckBuildIndex(const std::string& build_index) {
  if (build_index.empty() || build_index == "hnsw" || build_index == "ivf") {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--build_index: expected \"hnsw\", \"ivf\" or nothing, got \"", build_index, "\""));
}

absl::Status CheckModelSize(int64_t users, int64_t items) {
  for (const auto& [count, what] : {std::pair<int64_t, const char*>{users, "user"}, {items, "item"}}) {
    if (count > storage::kMaxIdsPerVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat(count, " distinct ", what, " ids, expected at most ",
                       storage::kMaxIdsPerVersion, " (2^31) per model version"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPublishTarget(const std::string& db) {
  absl::Status s = storage::CheckStoreWritable(db);
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("--db: ", s.message()));
}

absl::StatusOr<uint64_t> PublishModel(const std::string& db,
                                      const TrainedModel& model,
                                      affinity::v1::ModelMetadata metadata,
                                      const PublishOptions& options, std::ostream* log) {
  if (absl::Status s = CheckShapes(model); !s.ok()) return s;
  if (absl::Status s = CheckBuildIndex(options.build_index); !s.ok()) return s;
  std::optional<server::IndexToStore> index;
  if (!options.build_index.empty()) {
    auto built = BuildIndex(*model.items, options);
    if (!built.ok()) return built.status();
    index = *std::move(built);
    if (log != nullptr) {
      *log << absl::StrFormat("index %s/%s built in %.2f s\n", index->header.kind(),
                              index->header.params(), index->header.build_seconds())
           << std::flush;
    }
  }
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  auto writer = (*store)->CreateVersion();
  if (!writer.ok()) return writer.status();

  const int64_t dims = model.users->cols();
  for (int64_t i = 0; i < model.items->rows(); ++i) {
    absl::Status s = (*writer)->AddItem(
        static_cast<uint32_t>(i), (*model.item_ids)[i],
        absl::MakeConstSpan(model.items->row(i).data(), dims));
    if (!s.ok()) return s;
  }
  std::vector<uint32_t> seen;
  for (int64_t u = 0; u < model.users->rows(); ++u) {
    SeenItems(model.seen, u, &seen);
    absl::Status s = (*writer)->AddUser(
        static_cast<uint32_t>(u), (*model.user_ids)[u],
        absl::MakeConstSpan(model.users->row(u).data(), dims), seen);
    if (!s.ok()) return s;
  }
  if (absl::Status s = (*writer)->SetPopularItems(model.popular_items); !s.ok()) {
    return s;
  }
  metadata.set_dims(static_cast<int32_t>(dims));
  metadata.set_users(model.users->rows());
  metadata.set_items(model.items->rows());
  const uint64_t version = (*writer)->version();
  if (index.has_value()) {
    auto index_writer = (*writer)->CreateIndexWriter(index->header);
    if (!index_writer.ok()) return index_writer.status();
    auto stored = index->write(**index_writer);
    if (!stored.ok()) return stored.status();
    if (log != nullptr) {
      *log << absl::StrFormat("index %s/%s of version %d: %d bytes stored with the version\n",
                              stored->kind(), stored->params(), version, stored->blob_bytes())
           << std::flush;
    }
  }
  if (absl::Status s = (*writer)->Publish(std::move(metadata)); !s.ok()) return s;
  return version;
}

}  // namespace affinity
